import GatewayCore
import GatewayServer
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

    init(engineConfiguration: EngineConfiguration = EngineConfiguration()) {
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
            configuration: engineConfiguration,
            registry: NamespaceRegistry(GatewayNamespaces.make(services: services)),
            loops: broadcaster.loops,
            metrics: metrics,
            logger: Logger(label: "test")
        )
    }

    /// Connects `/user` as `userId`; returns the namespace socket.
    func userSocket(_ userId: String, recovery: Bool = false, ttlSeconds: Double = 3600) throws -> (NamespaceSocket, EngineSession, ChannelFrameWriter) {
        let (socket, session, writer) = try connectUser(userId, recovery: recovery, ttlSeconds: ttlSeconds)
        return (try #require(socket), session, writer)
    }

    /// Tries `/user` as `userId`; the socket is nil when the CONNECT was refused.
    func connectUser(_ userId: String, recovery: Bool = false, ttlSeconds: Double = 3600) throws -> (NamespaceSocket?, EngineSession, ChannelFrameWriter) {
        let channel = EmbeddedChannel(loop: loop)
        let writer = ChannelFrameWriter(channel: channel)
        let session = try #require(engine.makeWebSocketSession(writer: writer, on: writer.channel.eventLoop, handshake: HandshakeInfo(remoteAddress: "127.0.0.1")))
        engine.startWebSocketSession(session, writer: writer)
        let token = try minter.mint(subject: userId, now: now, ttlSeconds: ttlSeconds)
        session.webSocketReceived(.message(#"0/user,{"token":"\#(token)"\#(recovery ? #","recovery":true"# : "")}"#), from: writer)
        loop.run()
        return ((session.handler as? SocketIOConnection)?.socket(for: "/user"), session, writer)
    }
}

@Suite("User isolation")
struct UserIsolationTests {
    @Test("a /user socket holds exactly its own user's rooms")
    func ownRooms() throws {
        let harness = NamespaceHarness()
        let (socket, _, _) = try harness.userSocket("alice")
        #expect(Set(socket.rooms.map(\.name)) == ["user:alice", "orders:alice", "positions:alice", "wallet:alice"])
        #expect(socket.rooms.allSatisfy { $0.namespace == "/user" })
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
        #expect(!socket.rooms.contains { $0.name.contains("bob") })
        #expect(Set(socket.rooms.map(\.name)).isSubset(of: ["user:alice", "orders:alice", "positions:alice", "wallet:alice"]))
    }

    @Test("a refresh token of another user is refused and the socket keeps its user")
    func refreshCannotSwitchUser() throws {
        let harness = NamespaceHarness()
        let (socket, session, writer) = try harness.userSocket("alice")
        let bobToken = try harness.minter.mint(subject: "bob", now: harness.now, ttlSeconds: 3600)
        session.webSocketReceived(.message(#"2/user,8["auth.refresh",{"token":"\#(bobToken)"}]"#), from: writer)
        harness.loop.run()
        #expect(socket.rooms.allSatisfy { $0.name.hasSuffix(":alice") })
        session.webSocketReceived(.message(#"2/user,9["subscribe",{"channels":["orders"]}]"#), from: writer)
        harness.loop.run()
        #expect(socket.rooms.allSatisfy { $0.name.hasSuffix(":alice") })
    }

    @Test("ids that spell another user's rooms never share one, with or without recovery")
    func idsNeverShareRooms() throws {
        let harness = NamespaceHarness()
        let ids = ["alice", "alice#offsets", "alice:x", "x:alice", "a|user:b", "*", "{a}", "élodie", "用户"]
        var owners: [RoomKey: String] = [:]
        for id in ids {
            for recovery in [false, true] {
                let (socket, _, _) = try harness.userSocket(id, recovery: recovery)
                for room in socket.rooms {
                    if let owner = owners[room] { #expect(owner == id, "room \(room) is shared by \(owner) and \(id)") }
                    owners[room] = id
                }
            }
        }
        #expect(owners.count == ids.count * 8)
    }

    @Test("user ids outside the documented rule are refused", arguments: [
        "", " ", "alice bob", "\t", "a\u{7F}b", "a\u{200B}b", "a\u{202E}b", String(repeating: "x", count: 1024), "e\u{301}",
    ])
    func refusedIds(id: String) throws {
        let harness = NamespaceHarness()
        let (socket, session, _) = try harness.connectUser(id)
        #expect(socket == nil)
        #expect(!session.isClosed)
    }

    @Test("a token valid until year 5138 connects, refreshes and outlives the one-day timer horizon; one past 9999 is refused")
    func farFutureExpiry() throws {
        // No heartbeat in the way: days pass on the loop's clock.
        let harness = NamespaceHarness(engineConfiguration: EngineConfiguration(pingInterval: .hours(1_000), pingTimeout: .hours(1_000), connectTimeout: .hours(1_000)))
        let (socket, session, writer) = try harness.userSocket("alice", ttlSeconds: 100_000_000_000)
        #expect(socket.isConnected)
        let refresh = try harness.minter.mint(subject: "alice", now: harness.now, ttlSeconds: 200_000_000_000)
        session.webSocketReceived(.message(#"2/user,8["auth.refresh",{"token":"\#(refresh)"}]"#), from: writer)
        // Past the one-day timer horizon twice: the expiry timer fires, plans again, and the
        // socket stays.
        harness.loop.advanceTime(by: .hours(25))
        harness.loop.advanceTime(by: .hours(25))
        #expect(socket.isConnected)
        let (refused, _, _) = try harness.connectUser("alice", ttlSeconds: 1e16)
        #expect(refused == nil)
    }
}
