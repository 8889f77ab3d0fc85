import GatewayJSON
import GatewayServer
import Hummingbird
import MarketFeed
import Namespaces
import NIOCore

/// `POST /api/v1/market` (SPEC §6): market messages from a `service` or `admin` token. A batch is
/// validated whole before anything is applied. Answered inline on the connection's event loop
/// (``inlineRoute``), so a producer's round trip is parse, check and hand-over to the feed loop,
/// never a wait for a task behind the fan-out; the router's route serves the rare request
/// pipelined behind another.
struct MarketIngest: Sendable {
    static let bodyLimit = 4 * 1024 * 1024
    /// Bodies up to this are parsed on the connection's loop; larger ones (batches of hundreds
    /// of messages) go to the router's task rather than hold a loop that serves sockets.
    static let inlineBodyLimit = 256 * 1024
    static let tooLarge = APIError(status: .contentTooLarge, code: "PAYLOAD_TOO_LARGE", message: "The body is larger than \(bodyLimit) bytes.")

    let services: GatewayServices
    let bus: any GatewayBus
    let parser: FeedParser

    init(services: GatewayServices, bus: any GatewayBus) {
        self.services = services
        self.bus = bus
        parser = FeedParser(catalog: services.symbols, learnsSymbols: false)
    }

    /// A `service` or `admin` token, checked before any of the body is read.
    func authorize(_ headers: HTTPFields) throws {
        try BearerAuthorization.require(headers, services: services, roles: [.service, .admin], forbidden: "Only service and admin tokens may publish.")
    }

    /// `{"accepted": n}`, or throws ``APIError`` / ``FeedRejection`` with nothing applied.
    func accept(body: ByteBuffer) throws -> JSONValue {
        guard let payload = try? JSONParser.parse(body.readableBytesView) else { throw APIError.badRequest("The body is not valid JSON.") }
        let items: [JSONValue]
        if case .array(let list) = payload { items = list } else { items = [payload] }
        guard !items.isEmpty, items.count <= IngestRoutes.maximumBatch else {
            throw APIError.badRequest("Send one message or an array of 1 to \(IngestRoutes.maximumBatch) messages.")
        }
        var messages: [FeedMessage] = []
        messages.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            do throws(FeedError) {
                messages.append(try parser.parse(item))
            } catch {
                services.metrics.feedRejected(source: "http", reason: error.reason.rawValue).increment(by: 1)
                throw FeedRejection(index: index, error: error)
            }
        }
        let symbols = Set(messages.map(\.symbol))
        services.symbols.touch(symbols)
        guard bus.market(messages) else {
            throw APIError(status: .tooManyRequests, code: "OVERLOADED", message: "The gateway is behind on market data; nothing was applied. Retry shortly.")
        }
        // Accepted: now its new symbols are known (the batch was checked whole).
        for symbol in symbols { try? services.symbols.admit(symbol) }
        return .object(["accepted": .int(messages.count)])
    }

    var inlineRoute: InlineRoute {
        InlineRoute(
            method: .post, path: "/api/v1/market", bodyLimit: Self.inlineBodyLimit, maxBody: Self.bodyLimit, tooLarge: Self.inline(Self.tooLarge),
            admit: { head in
                do {
                    try authorize(head.headerFields)
                    return nil
                } catch let error as APIError {
                    return Self.inline(error)
                } catch {
                    return Self.inline(APIError.unauthorized("The token could not be checked."))
                }
            }
        ) { request in
            do {
                let answer = try accept(body: request.body)
                return Self.json(.accepted, JSONSerializer.serialize(answer))
            } catch let error as APIError {
                return Self.inline(error)
            } catch let error as FeedRejection {
                return Self.json(error.status, error.body)
            } catch {
                return Self.inline(APIError(status: .internalServerError, code: "INTERNAL", message: "The gateway could not take the request."))
            }
        }
    }

    private static func inline(_ error: APIError) -> InlineResponse { json(error.status, error.body) }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> InlineResponse {
        InlineResponse(status: status, headers: [.contentType: "application/json"], body: ByteBuffer(string: body))
    }
}
