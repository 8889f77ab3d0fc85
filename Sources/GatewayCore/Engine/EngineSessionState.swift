import SocketIOCodec

/// The Engine.IO v4 rules of one session as a value: the transport (and a WebSocket probing to
/// take it over), the heartbeat, and whether the session is closed. Each event returns what
/// the session must do; nothing here writes, schedules or closes anything, so every rule is
/// tested without sockets or timers (``EngineSession`` carries the actions out).
///
/// Generic over the socket type only so tests can use a stand-in for ``WebSocketWriter``.
struct EngineSessionState<Socket: AnyObject> {
    enum Transport {
        case polling
        case websocket(Socket)
    }

    private(set) var transport: Transport
    /// A WebSocket probing to take over a polling session, and whether it got `3probe`.
    private(set) var probe: Socket?
    private(set) var probeAnswered = false
    /// A ping is out and its pong has not come.
    private(set) var awaitingPong = false
    private(set) var closeReason: DisconnectReason?

    init(transport: Transport) {
        self.transport = transport
    }

    var isClosed: Bool { closeReason != nil }

    // MARK: Packets from the session's transport

    /// What a packet from the client's transport asks for.
    enum Inbound: Equatable {
        /// A message or binary message for the Socket.IO layer.
        case deliver
        /// A pong: the next ping goes out `pingInterval` from now.
        case heartbeat
        case close(DisconnectReason)
        case ignore
    }

    mutating func received(_ packet: EnginePacket) -> Inbound {
        guard !isClosed else { return .ignore }
        switch packet {
        case .message, .binaryMessage:
            return .deliver
        case .pong:
            awaitingPong = false
            return .heartbeat
        case .close:
            return .close(.transportClose)
        case .ping:
            // v4 heartbeats go server → client; a client ping is a protocol error.
            return .close(.transportError)
        case .noop:
            return .ignore
        case .upgrade, .open:
            return .close(.parseError)
        }
    }

    // MARK: Heartbeat

    /// The ping timer fired: true when a ping goes out (and its pong deadline starts).
    mutating func pingDue() -> Bool {
        guard !isClosed else { return false }
        awaitingPong = true
        return true
    }

    /// The pong deadline passed: the reason to close, when the pong has still not come.
    func pongDeadlinePassed() -> DisconnectReason? {
        !isClosed && awaitingPong ? .pingTimeout : nil
    }

    // MARK: Upgrade (polling → WebSocket)

    /// A WebSocket with this session's sid wants to take over: accepted only while open, on
    /// polling, with no other probe running.
    mutating func attachProbe(_ socket: Socket) -> Bool {
        guard !isClosed, case .polling = transport, probe == nil else { return false }
        probe = socket
        probeAnswered = false
        return true
    }

    /// Which of the session's sockets a WebSocket packet came from.
    enum Source: Equatable {
        case transport
        case probe
        /// Neither (an abandoned probe or a replaced transport): ignore it.
        case stale
    }

    func source(of socket: Socket) -> Source {
        if let probe, probe === socket { return .probe }
        if case .websocket(let current) = transport, current === socket { return .transport }
        return .stale
    }

    /// What a packet on the probing socket does.
    enum ProbeStep {
        /// `2probe`: answer `3probe`; waiting GETs are released with a noop.
        case answer
        /// `5`: the probe is the transport now; waiting GETs get a noop and the backlog moves on.
        case upgraded
        /// Anything else: the probe is closed, polling carries on.
        case abandon(Socket)
        case ignore
    }

    mutating func probeReceived(_ packet: EnginePacket) -> ProbeStep {
        guard !isClosed, let socket = probe else { return .ignore }
        switch packet {
        case .ping("probe") where !probeAnswered:
            probeAnswered = true
            return .answer
        case .upgrade where probeAnswered:
            probe = nil
            probeAnswered = false
            transport = .websocket(socket)
            return .upgraded
        default:
            return abandonProbe().map(ProbeStep.abandon) ?? .ignore
        }
    }

    /// The probe timed out, closed, or misbehaved: the socket to close, if one was probing.
    mutating func abandonProbe() -> Socket? {
        defer {
            probe = nil
            probeAnswered = false
        }
        return probe
    }

    // MARK: Close

    /// Closes the session: true the first time (the session then runs its close-down), false
    /// when it was already closed. The probe, if any, is handed back to close.
    mutating func close(_ reason: DisconnectReason) -> (first: Bool, probe: Socket?) {
        guard !isClosed else { return (false, nil) }
        closeReason = reason
        awaitingPong = false
        return (true, abandonProbe())
    }
}

extension EngineSessionState.ProbeStep: Equatable {
    static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.answer, .answer), (.upgraded, .upgraded), (.ignore, .ignore): true
        case (.abandon(let a), .abandon(let b)): a === b
        default: false
        }
    }
}
