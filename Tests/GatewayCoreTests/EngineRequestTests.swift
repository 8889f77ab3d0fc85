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

@Suite("Client address behind proxies")
struct ClientAddressTests {
    @Test("X-Forwarded-For counts only when the peer is a trusted proxy; the nearest untrusted hop is the client")
    func forwardedFor() {
        let trusted: Set<String> = ["10.0.0.1", "127.0.0.1"]
        #expect(HandshakeInfo.clientAddress(peer: "203.0.113.9", forwardedFor: "1.2.3.4", trusted: trusted) == "203.0.113.9", "not from a proxy: ignored")
        #expect(HandshakeInfo.clientAddress(peer: "127.0.0.1", forwardedFor: nil, trusted: trusted) == "127.0.0.1")
        #expect(HandshakeInfo.clientAddress(peer: "127.0.0.1", forwardedFor: "198.51.100.7", trusted: trusted) == "198.51.100.7")
        #expect(HandshakeInfo.clientAddress(peer: "127.0.0.1", forwardedFor: "6.6.6.6, 198.51.100.7, 10.0.0.1", trusted: trusted) == "198.51.100.7",
                "a client-written first entry is not believed past an untrusted hop")
        #expect(HandshakeInfo.clientAddress(peer: "127.0.0.1", forwardedFor: "10.0.0.1", trusted: trusted) == "10.0.0.1")
        #expect(HandshakeInfo.clientAddress(peer: "127.0.0.1", forwardedFor: " , ", trusted: trusted) == "127.0.0.1")
    }
}
