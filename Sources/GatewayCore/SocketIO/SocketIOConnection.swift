import GatewayJSON
import GatewayMetrics
import Logging
import NIOCore
import SocketIOCodec

/// The Socket.IO v5 layer of one Engine.IO session: decodes packets, assembles binary ones,
/// keeps the namespace sockets and enforces the protocol's state rules (any violation closes
/// the connection, as the reference server does).
public final class SocketIOConnection: EngineMessageHandler {
    private let registry: NamespaceRegistry
    private let metrics: GatewayMetrics
    private let logger: Logger
    /// The joined namespaces: each socket with its handler and the handler's state for it.
    private var sockets: [NamespacePath: Joined] = [:]
    private struct Joined {
        let socket: NamespaceSocket
        let binding: any NamespaceBinding
    }
    /// Namespaces whose CONNECT is being decided elsewhere (a deferred decision).
    private var joining: Set<NamespacePath> = []
    private var assembler: BinaryAssembler?
    private var connectDeadline: LoopTimer?
    private let connectTimeout: TimeAmount
    /// Refused CONNECTs per address, shared by every connection of the server.
    private let connectAttempts: ConnectAttemptLimiter
    /// After this many refused CONNECTs the connection is closed.
    private let maxFailedConnects: Int
    private var failedConnects = 0

    public init(
        registry: NamespaceRegistry, metrics: GatewayMetrics, connectTimeout: TimeAmount, logger: Logger,
        connectAttempts: ConnectAttemptLimiter = ConnectAttemptLimiter(perMinute: 0), maxFailedConnects: Int = .max
    ) {
        self.registry = registry
        self.metrics = metrics
        self.connectTimeout = connectTimeout
        self.logger = logger
        self.connectAttempts = connectAttempts
        self.maxFailedConnects = maxFailedConnects
    }

    public func socket(for namespace: NamespacePath) -> NamespaceSocket? { sockets[namespace]?.socket }

    public func sessionOpened(_ session: EngineSession) {
        // A client that never joins a namespace is closed after connectTimeout. The task holds
        // the session strongly and is cancelled on connect or close: a weak reference would give
        // every session a side table and slow each retain on the broadcast path.
        connectDeadline = session.loopContext.timers(after: connectTimeout).arm { [self] in
            guard sockets.isEmpty else { return }
            session.close(reason: .connectTimeout)
        }
    }

    public func received(text: String, on session: EngineSession) {
        guard session.parser == .json else {
            return violation(session, "text packet on the msgpack path (packets are MessagePack binary messages there)")
        }
        guard assembler == nil else {
            return violation(session, "text packet while binary attachments were expected")
        }
        let packet: SocketPacket
        do {
            packet = try SocketPacket.decode(text)
        } catch {
            return malformed(session, error)
        }
        if (packet.type == .binaryEvent || packet.type == .binaryAck) && packet.attachmentCount > 0 {
            assembler = BinaryAssembler(header: packet)
            return
        }
        if packet.type == .binaryEvent || packet.type == .binaryAck {
            do {
                return handle(try BinaryAssembler(header: packet).assemble(), on: session)
            } catch {
                return malformed(session, error)
            }
        }
        handle(packet, on: session)
    }

    public func received(binary: ByteBuffer, on session: EngineSession) {
        if session.parser == .msgpack {
            do {
                return handle(try SocketPacket.decode(messagePack: binary), on: session)
            } catch {
                return malformed(session, error)
            }
        }
        guard var pending = assembler else {
            return violation(session, "binary message without a binary packet header")
        }
        do {
            let packet = try pending.add(binary)
            assembler = packet == nil ? pending : nil
            if let packet { handle(packet, on: session) }
        } catch {
            malformed(session, error)
        }
    }

    public func sessionClosed(_ session: EngineSession, reason: DisconnectReason) {
        connectDeadline?.cancel()
        let open = sockets.values
        sockets.removeAll()
        for joined in open { remove(joined, reason: reason) }
    }

    public func resync(_ key: ConflationKey, skipped: ClosedRange<UInt64>?, on session: EngineSession) {
        guard let joined = sockets[key.namespace] else { return session.endResync(key) }
        joined.binding.resync(key, skipped: skipped, socket: joined.socket)
    }

    public func gapNotice(_ key: ConflationKey, skipped: ClosedRange<UInt64>, on session: EngineSession) -> EncodedFrame? {
        guard let joined = sockets[key.namespace] else { return nil }
        return joined.binding.gapNotice(key, skipped: skipped, socket: joined.socket)
    }

    // MARK: Packets

    private func handle(_ packet: SocketPacket, on session: EngineSession) {
        switch packet.type {
        case .connect:
            connect(packet, on: session)
        case .disconnect:
            guard let joined = sockets.removeValue(forKey: NamespacePath(packet.namespace)) else {
                return violation(session, "DISCONNECT for a namespace that is not joined")
            }
            remove(joined, reason: .clientNamespaceDisconnect)
        case .event, .binaryEvent:
            guard let joined = sockets[NamespacePath(packet.namespace)] else {
                return violation(session, "EVENT for a namespace that is not joined")
            }
            guard let name = packet.eventName else { return }
            metrics.countReceived(joined.socket.metrics)
            let ack = packet.ackID.map { Acknowledgement(socket: joined.socket, id: $0) }
            joined.binding.received(event: name, arguments: packet.eventArguments, ack: ack, from: joined.socket)
        case .ack, .binaryAck:
            guard let joined = sockets[NamespacePath(packet.namespace)] else {
                return violation(session, "ACK for a namespace that is not joined")
            }
            if let id = packet.ackID, case .array(let arguments)? = packet.data {
                joined.socket.receivedAck(id: id, arguments: arguments)
            }
        case .connectError:
            violation(session, "CONNECT_ERROR sent by a client")
        }
    }

    private func connect(_ packet: SocketPacket, on session: EngineSession) {
        let namespace = NamespacePath(packet.namespace)
        guard sockets[namespace] == nil, !joining.contains(namespace) else {
            return violation(session, "second CONNECT for a joined namespace")
        }
        guard let handler = registry.handler(for: namespace) else {
            // Labelled `other`: the namespace is the peer's string, and a label per string
            // would let anyone grow /metrics without end.
            metrics.connectErrors(namespace: "other", code: "INVALID_NAMESPACE").increment(by: 1)
            session.send(OutboundMessage(.connectError("Invalid namespace", namespace: namespace.value)))
            return refused(on: session, byAddress: true)
        }
        // An address that keeps sending refused CONNECTs is answered without a look at its
        // token: checking signatures is the expensive part of a CONNECT.
        if let retryAfterMs = connectAttempts.retryAfterMs(session.handshake.remoteAddress, now: LimitClock.now()) {
            metrics.countRefusal(.failedConnectsPerAddress)
            metrics.connectErrors(namespace: namespace.value, code: "RATE_LIMIT").increment(by: 1)
            let data = JSONValue.object(["code": "RATE_LIMIT", "retryAfterMs": .int(retryAfterMs)])
            let message = "Too many refused connection attempts from your address; try again in \((retryAfterMs + 999) / 1000) s."
            session.send(OutboundMessage(.connectError(message, data: data, namespace: namespace.value)))
            return refused(on: session, byAddress: false)
        }
        authorize(handler, auth: packet.data ?? .object([]), on: session)
    }

    /// Asks `handler` (its types opened here, so its admission and state keep them).
    private func authorize<Handler: NamespaceHandler>(_ handler: Handler, auth: JSONValue, on session: EngineSession) {
        let request = ConnectRequest(namespace: handler.name, auth: auth, handshake: session.handshake, eventLoop: session.eventLoop)
        apply(handler.authorize(request), handler: handler, auth: auth, on: session)
    }

    private func apply<Handler: NamespaceHandler>(
        _ decision: ConnectDecision<Handler.Admission>, handler: Handler, auth: JSONValue, on session: EngineSession
    ) {
        let namespace = handler.name
        switch decision {
        case .reject(let message, let data):
            let code = data?["code"]?.stringValue ?? "REJECTED"
            metrics.connectErrors(namespace: namespace.value, code: code).increment(by: 1)
            session.send(OutboundMessage(.connectError(message, data: data, namespace: namespace.value)))
            // Token refusals count against the address too; a busy or maintenance refusal is
            // the server's state, not the client's doing.
            refused(on: session, byAddress: ["UNAUTHORIZED", "TOKEN_EXPIRED", "FORBIDDEN"].contains(code))
        case .accept(let admission, let reply):
            let socket = NamespaceSocket(id: reply.socketID ?? SessionID.make(), namespace: namespace, session: session, auth: auth, connection: self)
            connectDeadline?.cancel()
            connectDeadline = nil
            socket.joinNamespaceRoom()
            socket.metrics.connections.increment(by: 1)
            socket.metrics.connectionsTotal.increment(by: 1)
            let data = JSONValue.object([JSONMember("sid", .string(socket.id))] + reply.fields)
            session.send(OutboundMessage(SocketPacket(type: .connect, namespace: namespace.value, data: data)))
            let state = handler.connected(socket, admission: admission)
            let joined = Joined(socket: socket, binding: HandlerBinding(handler: handler, state: state))
            guard !session.isClosed else {
                // Closed while the socket connected (its CONNECT answer or first events made it a
                // slow consumer): `sessionClosed` could not see it, so it goes here.
                return remove(joined, reason: session.closeReason ?? .transportClose)
            }
            sockets[namespace] = joined
            if socket.disconnectRequested { disconnectFromServer(socket) }
        case .deferred(let later):
            joining.insert(namespace)
            later.hop(to: session.eventLoop).whenComplete { [self] result in
                joining.remove(namespace)
                let decision = (try? result.get()) ?? .reject(message: "The connection could not be decided; try again.", data: nil)
                guard !session.isClosed else {
                    // Nobody to answer: what an acceptance took is given back.
                    if case .accept(let admission, _) = decision { handler.abandoned(admission) }
                    return
                }
                apply(decision, handler: handler, auth: auth, on: session)
            }
        }
    }

    /// A CONNECT of this connection was refused: past `maxFailedConnects` the connection is
    /// closed (after its CONNECT_ERROR), so one connection cannot ask again and again.
    private func refused(on session: EngineSession, byAddress: Bool) {
        if byAddress { connectAttempts.recordRefusal(session.handshake.remoteAddress, now: LimitClock.now()) }
        failedConnects += 1
        guard failedConnects >= maxFailedConnects, !session.isClosed else { return }
        metrics.countRefusal(.failedConnectsPerConnection)
        BadInputLog.shared.log(logger, "Too many refused CONNECTs; connection closed", metadata: [
            "client.address": "\(session.handshake.remoteAddress ?? "?")", "refused": "\(failedConnects)",
        ])
        session.close(reason: .invalidState)
    }

    /// Server-initiated namespace disconnect: DISCONNECT to the client, then cleanup. When it
    /// was the last namespace the client closes the connection itself (python does).
    /// False when the socket is not joined (yet: its handler's `connected` is still running).
    @discardableResult
    func disconnectFromServer(_ socket: NamespaceSocket) -> Bool {
        guard let joined = sockets[socket.namespace], joined.socket === socket else { return false }
        sockets[socket.namespace] = nil
        socket.session.send(OutboundMessage(SocketPacket(type: .disconnect, namespace: socket.namespace.value)))
        remove(joined, reason: .serverNamespaceDisconnect)
        return true
    }

    private func remove(_ joined: Joined, reason: DisconnectReason) {
        joined.socket.detach()
        joined.socket.metrics.connections.decrement(by: 1)
        joined.binding.disconnected(joined.socket, reason: reason)
    }

    // MARK: Errors

    private func malformed(_ session: EngineSession, _ error: CodecError) {
        assembler = nil
        metrics.countMalformed()
        BadInputLog.shared.log(logger, "Malformed Socket.IO packet; connection closed", metadata: ["error.type": "\(error.code.rawValue)"])
        session.close(reason: .parseError)
    }

    private func violation(_ session: EngineSession, _ what: String) {
        assembler = nil
        metrics.countMalformed()
        BadInputLog.shared.log(logger, "Socket.IO protocol violation; connection closed", metadata: ["error.type": "\(what)"])
        session.close(reason: .invalidState)
    }
}
