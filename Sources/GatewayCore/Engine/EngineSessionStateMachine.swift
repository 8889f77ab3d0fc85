import NIOCore
import SocketIOCodec

/// The whole Engine.IO v4 lifecycle of one session as a value: handshake transport, the
/// long-polling GET and POST rules, the WebSocket probe and upgrade deadline, the heartbeat,
/// and close. Every event returns one ``Action`` for ``EngineSession`` to carry out; nothing
/// here writes, schedules or closes anything, so every rule is tested without sockets or
/// timers.
///
/// Sockets are told apart by identity only, so tests use a stand-in ``FrameWriter``.
struct EngineSessionStateMachine {
    typealias Socket = any FrameWriter

    /// Where the session is in its life; each case holds what only that phase has.
    enum State {
        case polling(Polling)
        /// A WebSocket probes to take the session over; polling carries on until its `5`.
        case upgrading(Polling, probe: Socket, probeAnswered: Bool)
        case webSocket(Socket)
        case closed(DisconnectReason)
    }

    /// The long-polling transport's requests.
    struct Polling {
        /// The HTTP connection a held GET waits on.
        var heldGet: ObjectIdentifier?
        var postInFlight = false
        /// When the last GET arrived: data queued for a session nobody polls will never leave.
        var lastGetAt: NIODeadline = .distantPast
    }

    enum Heartbeat {
        case idle
        /// A ping is out and its pong has not come.
        case awaitingPong
    }

    /// What the session does for an event.
    enum Action {
        case none
        /// A message or binary message for the Socket.IO layer.
        case deliver(EnginePacket)
        /// A pong came: the next ping goes out `pingInterval` from now.
        case schedulePing
        /// A ping jumps the queue (straight to the WebSocket, or first in a polling batch) and
        /// the pong deadline starts.
        case sendPing(on: Socket?)
        /// The session ends: run ``CloseDown``.
        case closeDown(CloseDown)
        /// The request that caused the close is answered with `response`.
        case closeDownAndRespond(CloseDown, PollResponse)

        // Upgrade
        /// A probe was accepted: its deadline starts.
        case startUpgradeDeadline
        /// A WebSocket that may not probe this session: close it.
        case refuseProbe(Socket)
        /// `2probe` came: answer `3probe`; a held GET gets a noop so the client can switch.
        case answerProbe(Socket, releaseHeldGet: Bool)
        /// `5` came: the probe is the transport; a held GET gets a noop, the backlog moves on.
        case completeUpgrade(Socket, releaseHeldGet: Bool)
        /// The probe failed or timed out: close it; polling carries on.
        case abandonProbe(Socket)

        // Outbound
        /// Move queued frames to the WebSocket while it takes them, then flush.
        case drain(Socket)
        /// The held GET takes a batch of queued frames now.
        case answerHeldGet

        // Polling requests
        /// Answer the request now.
        case respond(PollResponse)
        /// Answer the GET with a batch of queued frames.
        case respondWithQueued
        /// Keep the GET until data or a ping comes.
        case holdGet
        /// Deliver the POST's packets in order, then answer `ok`.
        case acceptPost([EnginePacket])
    }

    /// What ending the session does to its transports.
    struct CloseDown {
        let reason: DisconnectReason
        let transport: TransportClose
        /// A probing WebSocket to close.
        let probe: Socket?
    }

    enum TransportClose {
        /// Polling: the held GET, if one waits, is answered with this.
        case polling(heldGetAnswer: PollResponse?)
        /// What is queued goes out, then a close frame (1000).
        case webSocketGraceful(Socket)
        /// Closed at once: a slow consumer's queue is the problem, not worth sending.
        case webSocketAbort(Socket)
        /// The edge answers with its own close frame (1009): what was written goes out first.
        case webSocketEdgeCloses(Socket)
        /// The socket is gone already: nothing is written.
        case webSocketGone
    }

    /// Which of the session's sockets a WebSocket event came from.
    enum Source: Equatable {
        case transport
        case probe
        /// Neither (an abandoned probe or a replaced transport): ignore it.
        case stale
    }

    /// What became of a polling POST's body.
    enum PostBody {
        case packets([EnginePacket])
        case malformed
        /// Larger than maxPayload.
        case tooLarge
        /// The connection failed before the body was complete.
        case unreadable
    }

    private(set) var state: State {
        didSet { webSocket = if case .webSocket(let socket) = state { socket } else { nil } }
    }
    private(set) var heartbeat = Heartbeat.idle
    /// The WebSocket carrying the session, when one does: stored (kept by `state` itself) so
    /// the broadcast path reads a field instead of matching the state for every message.
    private(set) var webSocket: Socket?

    /// A WebSocket-only session, or a polling one (`socket` nil).
    init(webSocket socket: Socket?) {
        state = socket.map(State.webSocket) ?? .polling(Polling())
        webSocket = socket
    }

    // MARK: Queries

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    var closeReason: DisconnectReason? {
        if case .closed(let reason) = state { return reason }
        return nil
    }

    /// Polling, with or without a probe (the open packet offers the upgrade then).
    var isPolling: Bool {
        switch state {
        case .polling, .upgrading: true
        case .webSocket, .closed: false
        }
    }

    /// Whether queued data can still reach the client: a WebSocket, or a polling session with a
    /// GET held or one within the last second (a live client polls again at once).
    func isReceiving(now: NIODeadline) -> Bool {
        switch state {
        case .webSocket: true
        case .polling(let polling), .upgrading(let polling, _, _): polling.heldGet != nil || now - polling.lastGetAt < .seconds(1)
        case .closed: false
        }
    }

    func source(of socket: Socket) -> Source {
        switch state {
        case .upgrading(_, let probe, _) where probe === socket: .probe
        case .webSocket(let current) where current === socket: .transport
        default: .stale
        }
    }

    // MARK: Packets from the transport

    mutating func received(_ packet: EnginePacket) -> Action {
        guard !isClosed else { return .none }
        switch packet {
        case .message, .binaryMessage:
            return .deliver(packet)
        case .pong:
            heartbeat = .idle
            return .schedulePing
        case .close:
            return close(.transportClose)
        case .ping:
            // v4 heartbeats go server → client; a client ping is a protocol error.
            return close(.transportError)
        case .noop:
            return .none
        case .upgrade, .open:
            return close(.parseError)
        }
    }

    /// A frame on the transport that could not be decoded: the reference server closes.
    mutating func receivedMalformed() -> Action {
        close(.parseError)
    }

    // MARK: Heartbeat

    mutating func pingDue() -> Action {
        guard !isClosed else { return .none }
        heartbeat = .awaitingPong
        return .sendPing(on: webSocket)
    }

    mutating func pongDeadlinePassed() -> Action {
        guard heartbeat == .awaitingPong else { return .none }
        return close(.pingTimeout)
    }

    // MARK: Outbound

    /// Something was queued, or the loop's flush round came: where it can go now.
    mutating func flush(hasQueued: Bool) -> Action {
        switch state {
        case .webSocket(let socket):
            return .drain(socket)
        case .polling(var polling) where hasQueued && polling.heldGet != nil:
            polling.heldGet = nil
            state = .polling(polling)
            return .answerHeldGet
        case .upgrading(var polling, let probe, let answered) where hasQueued && polling.heldGet != nil:
            polling.heldGet = nil
            state = .upgrading(polling, probe: probe, probeAnswered: answered)
            return .answerHeldGet
        default:
            return .none
        }
    }

    // MARK: Long polling

    /// A GET on `connection`: answered at once when something is queued, else held until a
    /// packet (at the latest the next ping) arrives. A second concurrent GET closes the session.
    mutating func getArrived(connection: ObjectIdentifier, connectionOpen: Bool, hasQueued: Bool, now: NIODeadline) -> Action {
        guard var (polling, probe) = pollingPhase else {
            return .respond(isClosed ? .error(.unknownSession) : .error(.badRequest))
        }
        polling.lastGetAt = now
        if polling.heldGet != nil {
            return close(.transportError, respond: .emptyError(status: 400))
        }
        if !hasQueued && probe?.answered != true {
            guard connectionOpen else {
                // Closed before the GET got here: its close notice may already have come and gone.
                return close(.transportClose, respond: .emptyError(status: 400))
            }
            polling.heldGet = connection
        }
        setPolling(polling, probe: probe)
        if hasQueued {
            // Also while a probe is under way, as the reference server does: a client whose
            // probe failed without closing it (python-engineio leaves it open) keeps polling,
            // and must not wait for the upgrade deadline to get its data.
            return .respondWithQueued
        }
        if probe?.answered == true {
            // Upgrading: an empty GET is released with a noop at once so the client can switch.
            return .respond(.payload(ByteBuffer(string: "6")))
        }
        return .holdGet
    }

    /// The HTTP connection `connection` closed. If a GET waited on it, the client is gone: the
    /// session ends as a WebSocket's would on FIN (the GET's answer is written nowhere).
    mutating func pollingConnectionClosed(_ connection: ObjectIdentifier) -> Action {
        guard let (polling, _) = pollingPhase, polling.heldGet == connection else { return .none }
        return close(.transportClose, heldGetAnswer: .emptyError(status: 400))
    }

    /// A POST starts (before its body is read, so overlapping POSTs are caught): `.none` to go on.
    mutating func postStarted() -> Action {
        guard var (polling, probe) = pollingPhase else {
            return .respond(isClosed ? .error(.unknownSession) : .error(.badRequest))
        }
        if polling.postInFlight {
            return close(.transportError, respond: .emptyError(status: 400))
        }
        polling.postInFlight = true
        setPolling(polling, probe: probe)
        return .none
    }

    /// The POST's body arrived, or did not.
    mutating func postFinished(_ body: PostBody) -> Action {
        if var (polling, probe) = pollingPhase {
            polling.postInFlight = false
            setPolling(polling, probe: probe)
        }
        guard !isClosed else { return .respond(.error(.unknownSession)) }
        switch body {
        case .packets(let packets):
            return .acceptPost(packets)
        case .malformed:
            return close(.parseError, respond: .emptyError(status: 400))
        case .tooLarge:
            // SPEC §1: a message over maxPayload closes that connection, on either transport.
            // 413 answers the POST; the session is gone, so the next GET gets 400.
            return close(.payloadTooLarge, respond: .emptyError(status: 413))
        case .unreadable:
            return close(.transportError, respond: .emptyError(status: 400))
        }
    }

    // MARK: Upgrade (polling → WebSocket)

    /// A WebSocket with this session's sid wants to take over: accepted only while open, on
    /// polling, with no other probe running.
    mutating func probeArrived(_ socket: Socket) -> Action {
        guard case .polling(let polling) = state else { return .refuseProbe(socket) }
        state = .upgrading(polling, probe: socket, probeAnswered: false)
        return .startUpgradeDeadline
    }

    /// A packet from one of the session's WebSockets (the transport, or a probe).
    mutating func received(_ packet: EnginePacket, from socket: Socket) -> Action {
        switch source(of: socket) {
        case .transport: return received(packet)
        case .stale: return .none
        case .probe: break
        }
        guard case .upgrading(var polling, let probe, let answered) = state else { return .none }
        switch packet {
        case .ping("probe") where !answered:
            let release = polling.heldGet != nil
            polling.heldGet = nil
            state = .upgrading(polling, probe: probe, probeAnswered: true)
            return .answerProbe(probe, releaseHeldGet: release)
        case .upgrade where answered:
            state = .webSocket(probe)
            return .completeUpgrade(probe, releaseHeldGet: polling.heldGet != nil)
        default:
            // Anything else on a probing socket ends the probe; polling carries on.
            return abandonProbe()
        }
    }

    /// A frame from one of the session's WebSockets that was not a valid Engine.IO packet.
    mutating func receivedMalformed(from socket: Socket) -> Action {
        switch source(of: socket) {
        case .transport: receivedMalformed()
        case .probe: abandonProbe()
        case .stale: .none
        }
    }

    /// A message bigger than maxPayload on one of the session's WebSockets.
    mutating func receivedTooLarge(from socket: Socket) -> Action {
        switch source(of: socket) {
        case .transport: close(.payloadTooLarge)
        case .probe: abandonProbe()
        case .stale: .none
        }
    }

    /// One of the session's WebSockets closed (its TCP connection went away).
    mutating func socketClosed(_ socket: Socket) -> Action {
        switch source(of: socket) {
        case .transport: close(.transportClose, transportGone: true)
        case .probe: abandonProbe()
        case .stale: .none
        }
    }

    /// The transport's WebSocket drained below its low watermark.
    func socketWritable(_ socket: Socket) -> Action {
        source(of: socket) == .transport ? .drain(socket) : .none
    }

    /// The upgrade deadline passed, or the probe must go for another reason.
    mutating func abandonProbe() -> Action {
        guard case .upgrading(let polling, let probe, _) = state else { return .none }
        state = .polling(polling)
        return .abandonProbe(probe)
    }

    // MARK: Close

    /// Ends the session for `reason` (only the first time; the first reason stays).
    /// `transportGone`: the socket is already closed, so nothing is written to it.
    mutating func close(_ reason: DisconnectReason, transportGone: Bool = false) -> Action {
        close(reason, transportGone: transportGone, heldGetAnswer: nil).map(Action.closeDown) ?? .none
    }

    private mutating func close(_ reason: DisconnectReason, respond response: PollResponse) -> Action {
        close(reason, transportGone: false, heldGetAnswer: nil).map { .closeDownAndRespond($0, response) } ?? .respond(.error(.unknownSession))
    }

    private mutating func close(_ reason: DisconnectReason, heldGetAnswer: PollResponse) -> Action {
        close(reason, transportGone: false, heldGetAnswer: heldGetAnswer).map(Action.closeDown) ?? .none
    }

    private mutating func close(_ reason: DisconnectReason, transportGone: Bool, heldGetAnswer: PollResponse?) -> CloseDown? {
        let transport: TransportClose
        var probe: Socket?
        switch state {
        case .closed:
            return nil
        case .webSocket(let socket):
            transport =
                if transportGone { .webSocketGone }
                else if reason == .slowConsumer { .webSocketAbort(socket) }
                else if reason == .payloadTooLarge { .webSocketEdgeCloses(socket) }
                else { .webSocketGraceful(socket) }
        case .polling(let polling), .upgrading(let polling, _, _):
            if case .upgrading(_, let socket, _) = state { probe = socket }
            // A client-requested close answers the held GET with a noop, as the reference does.
            let answer = heldGetAnswer ?? .payload(ByteBuffer(string: reason == .transportClose ? "6" : "1"))
            transport = .polling(heldGetAnswer: polling.heldGet == nil ? nil : answer)
        }
        state = .closed(reason)
        heartbeat = .idle
        return CloseDown(reason: reason, transport: transport, probe: probe)
    }

    // MARK: Polling phase access

    private var pollingPhase: (Polling, probe: (socket: Socket, answered: Bool)?)? {
        switch state {
        case .polling(let polling): (polling, nil)
        case .upgrading(let polling, let probe, let answered): (polling, (probe, answered))
        case .webSocket, .closed: nil
        }
    }

    private mutating func setPolling(_ polling: Polling, probe: (socket: Socket, answered: Bool)?) {
        if let probe {
            state = .upgrading(polling, probe: probe.socket, probeAnswered: probe.answered)
        } else {
            state = .polling(polling)
        }
    }
}
