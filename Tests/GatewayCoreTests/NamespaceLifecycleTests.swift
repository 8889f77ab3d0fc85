import GatewayCore
import GatewayJSON
import GatewayServer
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

/// A namespace that does something drastic from `connected` and records what it is told.
final class DrasticNamespace: NamespaceHandler, @unchecked Sendable {
    enum Act { case closeSession, disconnect }
    let name: NamespacePath = "/prices"
    let act: Act
    private(set) var disconnects: [DisconnectReason] = []

    init(_ act: Act) { self.act = act }

    func connected(_ socket: NamespaceSocket, admission: Void) -> NoSocketState {
        socket.join(RoomKey(namespace: name, name: "r"))
        switch act {
        case .closeSession: socket.session.close(reason: .slowConsumer)
        case .disconnect: socket.disconnect()
        }
        return NoSocketState()
    }

    func received(event: String, arguments: [JSONValue], ack: Acknowledgement?, from socket: NamespaceSocket, state: NoSocketState) {}

    func disconnected(_ socket: NamespaceSocket, state: NoSocketState, reason: DisconnectReason) {
        disconnects.append(reason)
    }
}

@Suite("A socket that ends while it connects")
struct NamespaceLifecycleTests {
    /// A WebSocket client that CONNECTs to `namespace`'s `/prices`, run until it settled.
    func connect(to namespace: DrasticNamespace) throws -> (Harness, EmbeddedChannel, EngineSession) {
        let harness = Harness(namespace: namespace)
        let channel = EmbeddedChannel(loop: harness.loop)
        let writer = ChannelFrameWriter(channel: channel)
        let session = try #require(harness.engine.makeWebSocketSession(writer: writer, on: harness.loop, handshake: HandshakeInfo()))
        harness.engine.startWebSocketSession(session, writer: writer)
        session.webSocketReceived(.message("0/prices,"), from: writer)
        harness.loop.run()
        return (harness, channel, session)
    }

    @Test("a session closed from the handler's connected (a slow consumer) still gets its disconnect and leaves its rooms")
    func closedWhileConnecting() throws {
        let namespace = DrasticNamespace(.closeSession)
        let (harness, _, _) = try connect(to: namespace)
        #expect(namespace.disconnects == [.slowConsumer], "cleaned up once, with the session's reason")
        let members = harness.loop.submit { harness.broadcaster.loops.all[0].sockets(in: RoomKey(namespace: "/prices", name: "r")) }
        harness.loop.run()
        #expect(try members.wait().isEmpty, "no closed session is left in a room")
    }

    @Test("a namespace DISCONNECT asked from the handler's connected is carried out once the socket is joined")
    func disconnectWhileConnecting() throws {
        let namespace = DrasticNamespace(.disconnect)
        let (harness, channel, session) = try connect(to: namespace)
        #expect(namespace.disconnects == [.serverNamespaceDisconnect])
        let texts = try harness.frames(channel).map { String(buffer: $0.getSlice(at: $0.readerIndex + 2, length: $0.readableBytes - 2)!) }
        #expect(texts.last == "41/prices,", "the client is told")
        #expect(!session.isClosed)
    }
}
