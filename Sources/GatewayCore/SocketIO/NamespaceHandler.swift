import GatewayJSON
import NIOCore
import SocketIOCodec

/// One namespace's behaviour. Every call arrives on the socket's event loop and must not block:
/// python clients give up on a namespace whose CONNECT answer takes over a second.
///
/// A handler names two types of its own: what an accepted CONNECT took (`Admission`: slots,
/// the principal) and what it keeps per socket (`SocketState`). The connection carries both
/// with their types (``NamespaceBinding``), so a handler gets its own values back, never a
/// value to cast.
public protocol NamespaceHandler: AnyObject, Sendable {
    associatedtype Admission: Sendable = Void
    associatedtype SocketState: AnyObject = NoSocketState

    /// The namespace's path, starting with `/`.
    var name: NamespacePath { get }

    /// Decides a CONNECT. Refusals become CONNECT_ERROR `{"message","data"}`.
    func authorize(_ request: ConnectRequest) -> ConnectDecision<Admission>

    /// The socket is connected and its CONNECT reply is queued: the state to keep for it.
    func connected(_ socket: NamespaceSocket, admission: Admission) -> SocketState

    /// A client event. `ack` is set when the client asked for an acknowledgement.
    func received(event: String, arguments: [JSONValue], ack: Acknowledgement?, from socket: NamespaceSocket, state: SocketState)

    /// The socket left the namespace (it has already left its rooms).
    func disconnected(_ socket: NamespaceSocket, state: SocketState, reason: DisconnectReason)

    /// An accepted CONNECT whose client was gone before the decision came back (a deferred
    /// decision): give back what `authorize` took.
    func abandoned(_ admission: Admission)

    /// The socket fell behind on a chained stream (an order book) and skipped part of it: send
    /// it a fresh snapshot and call `socket.session.endResync(key)` right before (until then
    /// the stream is held for this socket). `skipped`: the sequences it skipped, when known.
    func resync(_ key: ConflationKey, skipped: ClosedRange<UInt64>?, socket: NamespaceSocket, state: SocketState)

    /// The socket fell behind on a numbered stream (trades) and skipped `skipped`: the frame
    /// that declares it, sent where the first skipped message was (nil: send nothing).
    func gapNotice(_ key: ConflationKey, skipped: ClosedRange<UInt64>, socket: NamespaceSocket, state: SocketState) -> EncodedFrame?
}

/// The state of a handler that keeps none per socket.
public final class NoSocketState {
    public init() {}
}

extension NamespaceHandler {
    public func disconnected(_ socket: NamespaceSocket, state: SocketState, reason: DisconnectReason) {}
    public func abandoned(_ admission: Admission) {}
    public func resync(_ key: ConflationKey, skipped: ClosedRange<UInt64>?, socket: NamespaceSocket, state: SocketState) {
        socket.session.endResync(key)
    }

    public func gapNotice(_ key: ConflationKey, skipped: ClosedRange<UInt64>, socket: NamespaceSocket, state: SocketState) -> EncodedFrame? { nil }
}

extension NamespaceHandler where Admission == Void {
    public func authorize(_ request: ConnectRequest) -> ConnectDecision<Void> { .accept(()) }
}

extension NamespaceHandler where SocketState == NoSocketState {
    public func connected(_ socket: NamespaceSocket, admission: Admission) -> NoSocketState { NoSocketState() }
}

/// A namespace CONNECT as the handler sees it.
public struct ConnectRequest: Sendable {
    public let namespace: NamespacePath
    /// The CONNECT payload (`{}` when the client sent none).
    public let auth: JSONValue
    public let handshake: HandshakeInfo
    /// The session's loop (where a deferred decision's answer is applied).
    public let eventLoop: any EventLoop

    public init(namespace: NamespacePath, auth: JSONValue, handshake: HandshakeInfo, eventLoop: any EventLoop) {
        self.namespace = namespace
        self.auth = auth
        self.handshake = handshake
        self.eventLoop = eventLoop
    }
}

/// The answer to a CONNECT.
public enum ConnectDecision<Admission: Sendable>: Sendable {
    /// Accepts; `admission` goes to the handler's `connected` (e.g. the authenticated
    /// principal and the slots taken), `reply` shapes the CONNECT answer (a restored socket id,
    /// extra fields such as `pid`).
    case accept(Admission, reply: ConnectReply = ConnectReply())
    /// Refuses with CONNECT_ERROR `{"message": message, "data": data}`.
    case reject(message: String, data: JSONValue? = nil)
    /// Decided elsewhere (a shared store in cluster mode); applied on the session's loop when
    /// it completes. The namespace counts as joining meanwhile.
    indirect case deferred(EventLoopFuture<ConnectDecision<Admission>>)
}

/// Answers one client event that carried an ack id; only the first call sends anything.
/// Use it on the socket's event loop (it may be carried there from another loop).
public final class Acknowledgement: @unchecked Sendable {
    private weak var socket: NamespaceSocket?
    public let id: UInt64
    public private(set) var isSent = false

    init(socket: NamespaceSocket, id: UInt64) {
        self.socket = socket
        self.id = id
    }

    public func send(_ arguments: [JSONValue]) {
        guard !isSent, let socket else { return }
        isSent = true
        socket.sendPacket(.ack(arguments, namespace: socket.namespace.value, ackID: id))
    }
}

/// What a CONNECT answer carries besides the socket id.
public struct ConnectReply: Sendable {
    /// The socket id to use (connection state recovery restores the old one); nil: a new one.
    public var socketID: String?
    /// Extra members of the CONNECT data after `sid`.
    public var fields: [JSONMember]

    public init(socketID: String? = nil, fields: [JSONMember] = []) {
        self.socketID = socketID
        self.fields = fields
    }
}
