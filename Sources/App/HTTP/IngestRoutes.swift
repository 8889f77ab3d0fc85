import Foundation
import GatewayCore
import GatewayJSON
import GatewayServer
import Hummingbird
import JWTAuth
import MarketFeed
import Namespaces
import NIOCore

/// Producers' HTTP API (SPEC §6): market messages and per-user events, for tokens with role
/// `service` or `admin`. A batch is validated whole before anything is applied.
enum IngestRoutes {
    static let maximumBatch = 1000

    /// Accepted messages and events go through `bus`: to every instance in cluster mode.
    static func register(on router: Router<GatewayRequestContext>, services: GatewayServices, bus: any GatewayBus, market: MarketIngest) {
        // Most requests are answered inline (``MarketIngest/inlineRoute``); this serves those
        // with large or chunked bodies, and one pipelined behind a request the router still holds.
        router.post("api/v1/market") { request, _ in
            try market.authorize(request.headers)
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: MarketIngest.bodyLimit)
            } catch is NIOTooManyBytesError {
                throw MarketIngest.tooLarge
            }
            return OperationalRoutes.json(try market.accept(body: body), status: .accepted)
        }
        router.post("api/v1/users/:userId/events") { request, context in
            let producer = try BearerAuthorization.require(request, services: services, roles: [.service, .admin], forbidden: "Only service and admin tokens may publish.")
            // Percent-decoded: an id such as `alice#offsets` travels as `alice%23offsets`.
            guard let segment = context.parameters.get("userId"), let userId = segment.removingPercentEncoding, !userId.isEmpty else {
                throw APIError.badRequest("No user id in the path (percent-encode reserved characters).")
            }
            // Nobody can connect as an id outside the rule: its events would be kept for no one.
            if let problem = UserIDRule.problem(with: userId) {
                throw APIError.badRequest(problem.replacingOccurrences(of: "The token's user id", with: "The user id in the path"))
            }
            let key = try IdempotencyKey.of(request)
            let payload = try await body(request, limit: 1024 * 1024)
            let batch = try UserEventBatch(payload, maximum: maximumBatch)
            // The answer depends only on the body, so a retry is answered exactly as the first was.
            let answer: JSONValue = batch.isArray ? .object(["accepted": .int(batch.events.count)]) : .object(["accepted": true])
            let loop = context.channel.eventLoop
            let window = services.idempotencyWindow
            if let key {
                // Scoped to the producer, its id with its length first (no two producers share a key).
                let scoped = "req:\(producer.userId.utf8.count):" + producer.userId + ":" + key
                let fingerprint = IdempotencyKey.fingerprint(["users", userId, JSONSerializer.serialize(payload)])
                switch try await services.idempotency.claim(scoped, fingerprint: fingerprint, window: window, on: loop).get() {
                case .first:
                    break
                case .repeated:
                    services.metrics.countIdempotentRepeat(kind: "request")
                    var response = OperationalRoutes.json(answer, status: .accepted)
                    response.headers[IdempotencyKey.replayedHeader] = "true"
                    return response
                case .conflict:
                    throw APIError(status: .unprocessableContent, code: "IDEMPOTENCY_KEY_REUSED",
                                   message: "This Idempotency-Key was used with another request in the last \(window.nanoseconds / 1_000_000_000) s; nothing was applied.")
                }
            }
            // Events with an eventId are delivered once per user and id, however often they come.
            let claims = batch.events.map { event -> EventLoopFuture<IdempotencyClaim> in
                guard let eventId = event.eventId else { return loop.makeSucceededFuture(.first) }
                return services.idempotency.claim(UserEventBatch.eventKey(userId: userId, eventId: eventId), fingerprint: "http", window: window, on: loop)
            }
            for (event, claim) in zip(batch.events, claims) {
                guard try await claim.get() == .first else {
                    services.metrics.countIdempotentRepeat(kind: "event")
                    continue
                }
                bus.userEvent(userId: userId, event: event.name, payloadJSON: event.payloadJSON, streamEntry: nil)
            }
            return OperationalRoutes.json(answer, status: .accepted)
        }
    }

    static func body(_ request: Request, limit: Int) async throws -> JSONValue {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(status: .contentTooLarge, code: "PAYLOAD_TOO_LARGE", message: "The body is larger than \(limit) bytes.")
        }
        guard let value = try? JSONParser.parse(buffer.readableBytesView) else { throw APIError.badRequest("The body is not valid JSON.") }
        return value
    }
}

/// 400 `{"error":{"code","message","index"}}`: the first bad message of a batch; nothing applied.
struct FeedRejection: HTTPResponseError {
    let index: Int
    let error: FeedError

    var status: HTTPResponse.Status { .badRequest }
    var headers: HTTPFields { [.contentType: "application/json"] }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    var body: String {
        JSONSerializer.serialize(.object([
            "error": .object([
                "code": .string(error.reason.rawValue.uppercased()),
                "message": .string("message \(index): \(error.message); nothing was applied"),
                "index": .int(index),
            ])
        ]))
    }
}
