import GatewayCore
import HTTPTypes
import Hummingbird
import NIOCore
import WireCompression

/// HTTP long-polling on the Engine.IO path: handshake, GET (server → client), POST
/// (client → server), and CORS preflight. Every answer carries the CORS headers in force.
public struct PollingRoutes: Sendable {
    let engine: EngineServer
    let cors: CORSPolicy
    let parser: SocketIOParser

    public init(engine: EngineServer, cors: CORSPolicy, parser: SocketIOParser = .json) {
        self.engine = engine
        self.cors = cors
        self.parser = parser
    }

    public func register(on router: Router<GatewayRequestContext>, path: String) {
        let route = RouterPath(path)
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] {
            router.on(route, method: method) { request, context in
                try await respond(to: request, context: context)
            }
        }
        router.on(route, method: .options) { request, _ in
            cors.preflight(request)
        }
    }

    func respond(to request: Request, context: GatewayRequestContext) async throws -> Response {
        let method: EngineRequest.Method =
            switch request.method {
            case .get: .get
            case .post: .post
            default: .other
            }
        let query = request.uri.queryDictionary
        let engineRequest = EngineRequest(method: method, query: query, origin: request.headers[.origin], isWebSocketUpgrade: false)
        let answer: PollResponse
        switch engineRequest.validate(engine.configuration) {
        case .failure(let error):
            answer = .error(error)
        case .success(.pollingHandshake):
            let client = HandshakeInfo.clientAddress(
                peer: context.channel.remoteAddress?.ipAddress, forwardedFor: request.headers[.init("X-Forwarded-For")!],
                trusted: engine.configuration.trustedProxies
            )
            let handshake = HandshakeInfo(authorization: request.headers[.authorization], remoteAddress: client, parser: parser)
            answer = try await engine.openPollingSession(on: context.channel.eventLoop, handshake: handshake).get()
        case .success(.poll(let sid)):
            answer = try await engine.poll(sid: sid, connection: ChannelPollingConnection(channel: context.channel))?.get() ?? .error(.unknownSession)
        case .success(.post(let sid)):
            let maxPayload = engine.configuration.maxPayload
            answer = try await engine.post(sid: sid) {
                do {
                    return try await request.body.collect(upTo: maxPayload)
                } catch is NIOTooManyBytesError {
                    return nil
                }
            }
        case .success:
            answer = .error(.badRequest)
        }
        return response(for: answer, origin: request.headers[.origin], acceptEncoding: request.headers[values: .acceptEncoding])
    }

    func response(for answer: PollResponse, origin: String?, acceptEncoding: [String] = []) -> Response {
        var headers = cors.headers(origin: origin)
        switch answer {
        case .payload(var body):
            headers[.contentType] = "text/plain; charset=UTF-8"
            headers[.cacheControl] = "no-store"
            let compression = engine.loops.compression
            if compression.settings.polling {
                headers.append(HTTPField(name: .vary, value: "Accept-Encoding"))
                // As Node's httpCompression: payloads from the threshold on, by Accept-Encoding.
                if body.readableBytes >= compression.settings.threshold, let coding = HTTPContentCoding.preferred(acceptEncoding: acceptEncoding),
                    let compressed = try? compression.bodies.compress(body, as: coding)
                {
                    body = compressed
                    headers[.contentEncoding] = coding.rawValue
                }
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        case .ok:
            headers[.contentType] = "text/html"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "ok")))
        case .error(let error):
            headers[.contentType] = "application/json"
            if let seconds = error.retryAfterSeconds { headers[.retryAfter] = "\(seconds)" }
            return Response(status: .init(code: error.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: error.json)))
        case .emptyError(let status):
            return Response(status: .init(code: status), headers: headers)
        }
    }
}
