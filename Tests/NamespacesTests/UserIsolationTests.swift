import GatewayCore
import GatewayMetrics
import JWTAuth
import Logging
import NIOCore
import NIOEmbedded
import Namespaces
import Testing

/// The gateway's namespaces on one embedded loop, with clients on embedded channels.
struct NamespaceHarness {
    let loop = EmbeddedEventLoop()
    let engine: EngineServer
    let minter = TokenMinter(secret: "namespace-test-secret-0123")
    let now = 1_800_000_000.0
    let rateLimits = LocalRateLimitStore()

    init() {
        let metrics = GatewayMetrics()
        let broadcaster = Broadcaster(group: loop, metrics: metrics)
        let now = now
        let services = GatewayServices(
            settings: NamespaceSettings(),
            authenticator: JWTAuthenticator(key: .secret("namespace-test-secret-0123")),
            rateLimits: rateLimits,
            broadcaster: broadcaster,
            metrics: metrics,
            logger: Logger(label: "test"),
            now: { now }
        )
        engine = EngineServer(
            configuration: EngineConfiguration(),
            registry: NamespaceRegistry(GatewayNamespaces.make(services: services)),
            broadcaster: broadcaster,
            metrics: metrics,
            logger: Logger(label: "test")
        )
    }

    /// Connects `/user` as `userId`; returns the namespace socket.
    func userSocket(_ userId: String) throws -> (NamespaceSocket, EngineSession, WebSocketWriter) {
        let channel = EmbeddedChannel(loop: loop)
        let writer = WebSocketWriter(channel: channel)
        let session = try #require(engine.makeWebSocketSession(writer: writer, handshake: HandshakeInfo(remoteAddress: "127.0.0.1")))
        engine.startWebSocketSession(session, writer: writer)
        let token = try minter.mint(subject: userId, now: now, ttlSeconds: 3600)
        session.webSocketReceived(.message(#"0/user,{"token":"\#(token)"}"#), from: writer)
        loop.run()
        let socket = try #require((session.handler as? SocketIOConnection)?.socket(for: "/user"))
        return (socket, session, writer)
    }
}

@Suite("User isolation")
struct UserIsolationTests {
    @Test("a /user socket holds exactly its own user's rooms")
    func ownRooms() throws {
        let harness = NamespaceHarness()
        let (socket, _, _) = try harness.userSocket("alice")
        #expect(socket.rooms == ["user:alice", "orders:alice", "positions:alice", "wallet:alice"])
    }

    @Test("no client event, whatever it names, adds another user's room", arguments: [
        #"["subscribe",{"channels":["orders","positions","wallet"],"userId":"bob","uid":"bob","user":"bob"}]"#,
        #"["subscribe",{"channels":["orders:bob","user:bob"]}]"#,
        #"["subscribe",{"channels":["../bob"]}]"#,
        #"["unsubscribe",{"channels":["orders"],"userId":"bob"}]"#,
        #"["join","user:bob"]"#,
        #"["auth.refresh",{"token":"x","userId":"bob"}]"#,
        #"["subscribe",{"symbols":["BTC/USDT"],"room":"wallet:bob"}]"#,
    ])
    func foreignRoomsNeverJoined(event: String) throws {
        let harness = NamespaceHarness()
        let (socket, session, writer) = try harness.userSocket("alice")
        session.webSocketReceived(.message("2/user,7" + event), from: writer)
        harness.loop.run()
        #expect(!socket.rooms.contains { $0.hasSuffix(":bob") || $0.contains("bob") })
        #expect(socket.rooms.isSubset(of: ["user:alice", "orders:alice", "positions:alice", "wallet:alice"]))
    }

    @Test("a refresh token of another user is refused and the socket keeps its user")
    func refreshCannotSwitchUser() throws {
        let harness = NamespaceHarness()
        let (socket, session, writer) = try harness.userSocket("alice")
        let bobToken = try harness.minter.mint(subject: "bob", now: harness.now, ttlSeconds: 3600)
        session.webSocketReceived(.message(#"2/user,8["auth.refresh",{"token":"\#(bobToken)"}]"#), from: writer)
        harness.loop.run()
        #expect(socket.rooms.allSatisfy { $0.hasSuffix(":alice") })
        session.webSocketReceived(.message(#"2/user,9["subscribe",{"channels":["orders"]}]"#), from: writer)
        harness.loop.run()
        #expect(socket.rooms.allSatisfy { $0.hasSuffix(":alice") })
    }
}
