import GatewayCore
import Testing

@Suite("Engine.IO request validation")
struct EngineRequestTests {
    let configuration = EngineConfiguration(allowedOrigins: ["https://app.example"])

    func validate(_ method: EngineRequest.Method, _ query: [String: String], origin: String? = nil, upgrade: Bool = false)
        -> Result<EngineRequest.Intent, EngineRequestError>
    {
        EngineRequest(method: method, query: query, origin: origin, isWebSocketUpgrade: upgrade).validate(configuration)
    }

    @Test("handshakes, polls, posts and upgrades are recognised")
    func intents() {
        #expect(validate(.get, ["EIO": "4", "transport": "polling"]) == .success(.pollingHandshake))
        #expect(validate(.get, ["EIO": "4", "transport": "polling", "sid": "s"]) == .success(.poll(sid: "s")))
        #expect(validate(.post, ["EIO": "4", "transport": "polling", "sid": "s"]) == .success(.post(sid: "s")))
        #expect(validate(.get, ["EIO": "4", "transport": "websocket"], upgrade: true) == .success(.webSocketHandshake))
        #expect(validate(.get, ["EIO": "4", "transport": "websocket", "sid": "s"], upgrade: true) == .success(.webSocketUpgrade(sid: "s")))
    }

    @Test("refusals carry the reference server's codes, checked in its order")
    func refusals() {
        #expect(validate(.get, ["EIO": "4"]) == .failure(.unknownTransport))
        #expect(validate(.get, ["EIO": "4", "transport": "webtransport"]) == .failure(.unknownTransport))
        #expect(validate(.get, ["transport": "polling"]) == .failure(.unsupportedProtocolVersion))
        #expect(validate(.get, ["EIO": "3", "transport": "polling"]) == .failure(.unsupportedProtocolVersion))
        #expect(validate(.post, ["transport": "polling"]) == .failure(.badHandshakeMethod))
        #expect(validate(.get, ["EIO": "4", "transport": "websocket"], upgrade: false) == .failure(.badRequest))
        #expect(validate(.other, ["EIO": "4", "transport": "polling", "sid": "s"]) == .failure(.badRequest))
    }

    @Test("origins outside the CORS list are forbidden; requests without Origin are not browsers")
    func origins() {
        #expect(validate(.get, ["EIO": "4", "transport": "polling"], origin: "https://evil.example") == .failure(.forbidden))
        #expect(validate(.get, ["EIO": "4", "transport": "polling"], origin: "https://app.example") == .success(.pollingHandshake))
        #expect(validate(.get, ["EIO": "4", "transport": "polling"], origin: nil) == .success(.pollingHandshake))
        #expect(EngineRequestError.forbidden.status == 403)
        #expect(EngineRequestError.unknownSession.json == #"{"code":1,"message":"Session ID unknown"}"#)
    }
}
