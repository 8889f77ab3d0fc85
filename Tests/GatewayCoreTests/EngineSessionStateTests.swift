import SocketIOCodec
import Testing

@testable import GatewayCore

/// A stand-in for a WebSocket: the state machine only compares identities.
private final class Socket {}

private typealias State = EngineSessionState<Socket>

@Suite("Engine.IO session rules, without sockets or timers")
struct EngineSessionStateTests {
    /// Every kind of packet a client can send.
    static let packets: [EnginePacket] = [
        .open(""), .close, .ping(""), .ping("probe"), .pong(""), .message("40"), .binaryMessage(.init()), .upgrade, .noop,
    ]

    // MARK: The transport's packets

    @Test("what each packet on the transport means, on polling and on WebSocket", arguments: [false, true])
    func transportPackets(webSocket: Bool) {
        for packet in Self.packets {
            var state = webSocket ? State(transport: .websocket(Socket())) : State(transport: .polling)
            let expected: State.Inbound =
                switch packet {
                case .message, .binaryMessage: .deliver
                case .pong: .heartbeat
                case .close: .close(.transportClose)
                case .ping: .close(.transportError)
                case .noop: .ignore
                case .upgrade, .open: .close(.parseError)
                }
            let inbound = state.received(packet)
            #expect(inbound == expected, "\(packet)")
            #expect(!state.isClosed, "deciding to close is not closing: close(_:) does that once")
        }
    }

    @Test("a closed session ignores everything, and closes only once")
    func closedIgnoresEverything() {
        var state = State(transport: .polling)
        let firstClose = state.close(.transportClose).first
        #expect(firstClose)
        #expect(state.closeReason == .transportClose)
        for packet in Self.packets { #expect(state.received(packet) == .ignore, "\(packet)") }
        let pinged = state.pingDue()
        #expect(!pinged)
        #expect(state.pongDeadlinePassed() == nil)
        let accepted = state.attachProbe(Socket())
        #expect(!accepted)
        let step = state.probeReceived(.ping("probe"))
        #expect(step == .ignore)
        let firstClose2 = state.close(.pingTimeout).first
        #expect(firstClose2 == false)
        #expect(state.closeReason == .transportClose, "the first reason stays")
    }

    // MARK: Heartbeat

    @Test("heartbeat: a ping starts the pong deadline, a pong clears it, a late deadline closes with ping timeout")
    func heartbeat() {
        var state = State(transport: .polling)
        #expect(state.pongDeadlinePassed() == nil, "no ping out yet")
        let pinged = state.pingDue()
        #expect(pinged)
        #expect(state.pongDeadlinePassed() == .pingTimeout)
        let inbound = state.received(.pong(""))
        #expect(inbound == .heartbeat)
        #expect(state.pongDeadlinePassed() == nil, "the pong came in time")
        let pinged2 = state.pingDue()
        #expect(pinged2)
        let inbound2 = state.received(.message("x"))
        #expect(inbound2 == .deliver)
        #expect(state.pongDeadlinePassed() == .pingTimeout, "other traffic is not a pong")
    }

    // MARK: Upgrade

    @Test("upgrade: 2probe is answered once, 5 after it switches the transport to the probe")
    func upgrade() {
        var state = State(transport: .polling)
        let probe = Socket()
        let accepted = state.attachProbe(probe)
        #expect(accepted)
        #expect(state.source(of: probe) == .probe)
        let accepted2 = state.attachProbe(Socket())
        #expect(!accepted2, "one probe at a time")
        let step = state.probeReceived(.ping("probe"))
        #expect(step == .answer)
        #expect(state.probeAnswered)
        let step2 = state.probeReceived(.upgrade)
        #expect(step2 == .upgraded)
        guard case .websocket(let current) = state.transport else { Issue.record("not upgraded"); return }
        #expect(current === probe)
        #expect(state.source(of: probe) == .transport)
        #expect(state.probe == nil && !state.probeAnswered)
        let accepted3 = state.attachProbe(Socket())
        #expect(!accepted3, "an upgraded session takes no probe")
    }

    @Test("a probe that says anything else, or 5 before 2probe, or 2probe twice is abandoned; polling carries on", arguments: [
        [EnginePacket.upgrade], [.message("4")], [.ping("probe"), .ping("probe")], [.noop], [.close], [.ping("x")], [.pong("probe")],
    ])
    func probeAbandoned(sequence: [EnginePacket]) {
        var state = State(transport: .polling)
        let probe = Socket()
        let accepted = state.attachProbe(probe)
        #expect(accepted)
        var last: State.ProbeStep?
        for packet in sequence { last = state.probeReceived(packet) }
        guard case .abandon(let abandoned)? = last else { Issue.record("\(sequence) should abandon the probe"); return }
        #expect(abandoned === probe)
        #expect(state.probe == nil)
        guard case .polling = state.transport else { Issue.record("still polling"); return }
        #expect(!state.isClosed)
        #expect(state.source(of: probe) == .stale, "later packets of the old probe are ignored")
        let accepted2 = state.attachProbe(Socket())
        #expect(accepted2, "a new probe may try again")
    }

    @Test("the upgrade deadline or the probe's own close end the probe; closing the session hands the probe back to close")
    func probeEnds() {
        var state = State(transport: .polling)
        let probe = Socket()
        _ = state.attachProbe(probe)
        let abandoned = state.abandonProbe()
        #expect(abandoned === probe)
        let abandoned2 = state.abandonProbe()
        #expect(abandoned2 == nil, "nothing left to abandon")
        let second = Socket()
        _ = state.attachProbe(second)
        _ = state.probeReceived(.ping("probe"))
        let (first, handedBack) = state.close(.serverShuttingDown)
        #expect(first && handedBack === second)
    }

    @Test("a WebSocket session never takes a probe; sockets that are neither transport nor probe are stale")
    func webSocketSession() {
        let socket = Socket()
        var state = State(transport: .websocket(socket))
        let accepted = state.attachProbe(Socket())
        #expect(!accepted)
        #expect(state.source(of: socket) == .transport)
        #expect(state.source(of: Socket()) == .stale)
        let step = state.probeReceived(.ping("probe"))
        #expect(step == .ignore)
    }
}
