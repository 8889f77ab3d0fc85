import NIOCore
import SocketIOCodec
import Testing

@testable import GatewayCore

/// A stand-in for a WebSocket: the state machine only compares identities.
private final class Socket: FrameWriter, @unchecked Sendable {
    var isWritable: Bool { true }
    func write(_ frame: ByteBuffer) {}
    func flush() {}
    func closeGracefully() {}
    func abort() {}
}

private final class Connection {}

typealias Machine = EngineSessionStateMachine

/// The action's name and sockets, comparable in an expectation.
private func describe(_ action: Machine.Action) -> String {
    switch action {
    case .none: "none"
    case .deliver(let packet): "deliver \(packet.encodedText)"
    case .schedulePing: "schedulePing"
    case .sendPing(let socket): socket == nil ? "sendPing queued" : "sendPing direct"
    case .closeDown(let closing): "closeDown \(closing.reason.rawValue)"
    case .closeDownAndRespond(let closing, let response): "closeDown \(closing.reason.rawValue) + \(describe(response))"
    case .startUpgradeDeadline: "startUpgradeDeadline"
    case .refuseProbe: "refuseProbe"
    case .answerProbe(_, let release): "answerProbe release=\(release)"
    case .completeUpgrade(_, let release): "completeUpgrade release=\(release)"
    case .abandonProbe: "abandonProbe"
    case .drain: "drain"
    case .answerHeldGet: "answerHeldGet"
    case .respond(let response): "respond \(describe(response))"
    case .respondWithQueued: "respondWithQueued"
    case .holdGet: "holdGet"
    case .acceptPost(let packets): "acceptPost \(packets.count)"
    }
}

private func describe(_ response: PollResponse) -> String {
    switch response {
    case .payload(let body): "payload \(String(buffer: body))"
    case .ok: "ok"
    case .error(let error): "error \(error.code)"
    case .emptyError(let status): "status \(status)"
    }
}

@Suite("Engine.IO session lifecycle, without sockets or timers")
struct EngineSessionStateMachineTests {
    /// Every kind of packet a client can send.
    static let packets: [EnginePacket] = [
        .open(""), .close, .ping(""), .ping("probe"), .pong(""), .message("40"), .binaryMessage(.init()), .upgrade, .noop,
    ]

    // Kept alive: a freed object's identifier is reused by the next one.
    private let connections = (Connection(), Connection())
    var connection: ObjectIdentifier { ObjectIdentifier(connections.0) }
    var otherConnection: ObjectIdentifier { ObjectIdentifier(connections.1) }
    let now = NIODeadline.uptimeNanoseconds(10_000_000_000)

    // MARK: The transport's packets

    @Test("what each packet on the transport means, on polling and on WebSocket", arguments: [false, true])
    func transportPackets(webSocket: Bool) {
        for packet in Self.packets {
            var machine = Machine(webSocket: webSocket ? Socket() : nil)
            let expected =
                switch packet {
                case .message, .binaryMessage: "deliver \(packet.encodedText)"
                case .pong: "schedulePing"
                case .close: "closeDown transport close"
                case .ping: "closeDown transport error"
                case .noop: "none"
                case .upgrade, .open: "closeDown parse error"
                }
            #expect(describe(machine.received(packet)) == expected, "\(packet)")
        }
    }

    @Test("a closed session ignores everything, closes only once, and keeps the first reason")
    func closedIgnoresEverything() {
        var machine = Machine(webSocket: nil)
        #expect(describe(machine.close(.transportClose)) == "closeDown transport close")
        for packet in Self.packets { #expect(describe(machine.received(packet)) == "none", "\(packet)") }
        #expect(describe(machine.pingDue()) == "none")
        #expect(describe(machine.pongDeadlinePassed()) == "none")
        #expect(describe(machine.probeArrived(Socket())) == "refuseProbe")
        #expect(describe(machine.getArrived(connection: connection, connectionOpen: true, hasQueued: true, now: now)) == "respond error 1")
        #expect(describe(machine.postStarted()) == "respond error 1")
        #expect(describe(machine.close(.pingTimeout)) == "none")
        #expect(machine.closeReason == .transportClose)
    }

    // MARK: Heartbeat

    @Test("heartbeat: a ping starts the pong deadline, a pong clears it, a late deadline closes with ping timeout")
    func heartbeat() {
        var machine = Machine(webSocket: nil)
        #expect(describe(machine.pongDeadlinePassed()) == "none", "no ping out yet")
        #expect(describe(machine.pingDue()) == "sendPing queued", "polling: the ping goes first in the next batch")
        #expect(describe(machine.received(.pong(""))) == "schedulePing")
        #expect(describe(machine.pongDeadlinePassed()) == "none", "the pong came in time")
        _ = machine.pingDue()
        #expect(describe(machine.received(.message("x"))) == "deliver 4x")
        #expect(describe(machine.pongDeadlinePassed()) == "closeDown ping timeout", "other traffic is not a pong")
        var webSocket = Machine(webSocket: Socket())
        #expect(describe(webSocket.pingDue()) == "sendPing direct")
    }

    // MARK: Long polling

    @Test("a GET is held when nothing is queued, answered at once when something is, and a second GET closes the session")
    func pollingGets() {
        var machine = Machine(webSocket: nil)
        #expect(describe(machine.getArrived(connection: connection, connectionOpen: true, hasQueued: true, now: now)) == "respondWithQueued")
        #expect(describe(machine.getArrived(connection: connection, connectionOpen: true, hasQueued: false, now: now)) == "holdGet")
        #expect(describe(machine.flush(hasQueued: false)) == "none", "nothing to carry yet")
        #expect(describe(machine.flush(hasQueued: true)) == "answerHeldGet")
        #expect(describe(machine.flush(hasQueued: true)) == "none", "the GET was answered; the next one takes the rest")
        _ = machine.getArrived(connection: connection, connectionOpen: true, hasQueued: false, now: now)
        let overlapping = machine.getArrived(connection: connection, connectionOpen: true, hasQueued: false, now: now)
        #expect(describe(overlapping) == "closeDown transport error + status 400")
        guard case .closeDownAndRespond(let closing, _) = overlapping, case .polling(let held?) = closing.transport else {
            Issue.record("the held GET should be answered")
            return
        }
        #expect(describe(held) == "payload 1", "the first GET learns of the close")
    }

    @Test("a client that hangs up during a held GET ends the session; a hang-up of another connection does not")
    func pollingConnectionClosed() {
        var machine = Machine(webSocket: nil)
        _ = machine.getArrived(connection: connection, connectionOpen: true, hasQueued: false, now: now)
        #expect(describe(machine.pollingConnectionClosed(otherConnection)) == "none")
        #expect(describe(machine.pollingConnectionClosed(connection)) == "closeDown transport close")
        var late = Machine(webSocket: nil)
        #expect(describe(late.getArrived(connection: connection, connectionOpen: false, hasQueued: false, now: now)) == "closeDown transport close + status 400",
                "a GET whose connection closed before it was handled")
    }

    @Test("polling receives for one second after its last GET, and while one is held")
    func receiving() {
        var machine = Machine(webSocket: nil)
        #expect(!machine.isReceiving(now: now))
        _ = machine.getArrived(connection: connection, connectionOpen: true, hasQueued: true, now: now)
        #expect(machine.isReceiving(now: now + .milliseconds(999)))
        #expect(!machine.isReceiving(now: now + .seconds(2)))
        _ = machine.getArrived(connection: connection, connectionOpen: true, hasQueued: false, now: now)
        #expect(machine.isReceiving(now: now + .seconds(60)))
        #expect(Machine(webSocket: Socket()).isReceiving(now: now))
    }

    @Test("POST: one at a time; the body's packets are delivered; too large, malformed or unreadable bodies close", arguments: [
        (Machine.PostBody.packets([.message("x")]), "acceptPost 1"),
        (.tooLarge, "closeDown payload too large + status 413"),
        (.malformed, "closeDown parse error + status 400"),
        (.unreadable, "closeDown transport error + status 400"),
    ])
    func posts(body: Machine.PostBody, expected: String) {
        var machine = Machine(webSocket: nil)
        #expect(describe(machine.postStarted()) == "none")
        #expect(describe(machine.postFinished(body)) == expected)
        var overlapping = Machine(webSocket: nil)
        _ = overlapping.postStarted()
        #expect(describe(overlapping.postStarted()) == "closeDown transport error + status 400")
    }

    @Test("requests for a WebSocket session are bad requests")
    func pollingOnWebSocket() {
        var machine = Machine(webSocket: Socket())
        #expect(describe(machine.getArrived(connection: connection, connectionOpen: true, hasQueued: false, now: now)) == "respond error 3")
        #expect(describe(machine.postStarted()) == "respond error 3")
    }

    // MARK: Upgrade

    @Test("upgrade: 2probe is answered once (a held GET is released), 5 after it switches the transport to the probe")
    func upgrade() {
        var machine = Machine(webSocket: nil)
        let probe = Socket()
        #expect(describe(machine.probeArrived(probe)) == "startUpgradeDeadline")
        #expect(machine.source(of: probe) == .probe)
        #expect(describe(machine.probeArrived(Socket())) == "refuseProbe", "one probe at a time")
        _ = machine.getArrived(connection: connection, connectionOpen: true, hasQueued: false, now: now)
        #expect(describe(machine.received(.ping("probe"), from: probe)) == "answerProbe release=true")
        #expect(describe(machine.getArrived(connection: connection, connectionOpen: true, hasQueued: false, now: now)) == "respond payload 6",
                "while upgrading, an empty GET gets a noop at once")
        #expect(describe(machine.received(.upgrade, from: probe)) == "completeUpgrade release=false")
        #expect(machine.webSocket === probe)
        #expect(machine.source(of: probe) == .transport)
        #expect(!machine.isPolling)
        #expect(describe(machine.probeArrived(Socket())) == "refuseProbe", "an upgraded session takes no probe")
        #expect(describe(machine.flush(hasQueued: true)) == "drain")
    }

    @Test("a probe that says anything else, or 5 before 2probe, or 2probe twice is abandoned; polling carries on", arguments: [
        [EnginePacket.upgrade], [.message("4")], [.ping("probe"), .ping("probe")], [.noop], [.close], [.ping("x")], [.pong("probe")],
    ])
    func probeAbandoned(sequence: [EnginePacket]) {
        var machine = Machine(webSocket: nil)
        let probe = Socket()
        _ = machine.probeArrived(probe)
        var last = Machine.Action.none
        for packet in sequence { last = machine.received(packet, from: probe) }
        guard case .abandonProbe(let abandoned) = last else { Issue.record("\(sequence) should abandon the probe"); return }
        #expect(abandoned === probe)
        #expect(machine.isPolling && !machine.isClosed)
        #expect(machine.source(of: probe) == .stale, "later packets of the old probe are ignored")
        #expect(describe(machine.received(.message("x"), from: probe)) == "none")
        #expect(describe(machine.probeArrived(Socket())) == "startUpgradeDeadline", "a new probe may try again")
    }

    @Test("the upgrade deadline, the probe's own close, or a bad frame on it end the probe; closing the session hands the probe back")
    func probeEnds() {
        var machine = Machine(webSocket: nil)
        let probe = Socket()
        _ = machine.probeArrived(probe)
        #expect(describe(machine.abandonProbe()) == "abandonProbe")
        #expect(describe(machine.abandonProbe()) == "none", "nothing left to abandon")
        for end in [{ (m: inout Machine, s: Socket) in m.socketClosed(s) }, { $0.receivedMalformed(from: $1) }, { $0.receivedTooLarge(from: $1) }] {
            let socket = Socket()
            _ = machine.probeArrived(socket)
            #expect(describe(end(&machine, socket)) == "abandonProbe")
            #expect(!machine.isClosed)
        }
        let last = Socket()
        _ = machine.probeArrived(last)
        _ = machine.received(.ping("probe"), from: last)
        guard case .closeDown(let closing) = machine.close(.serverShuttingDown) else { Issue.record("should close"); return }
        #expect(closing.probe === last)
    }

    @Test("how the WebSocket is closed depends on why", arguments: [
        (DisconnectReason.slowConsumer, false, "abort"), (.payloadTooLarge, false, "edge"), (.transportClose, true, "gone"),
        (.slowConsumer, true, "gone"),
        (.serverShuttingDown, false, "graceful"), (.pingTimeout, false, "graceful"),
    ])
    func webSocketClose(reason: DisconnectReason, transportGone: Bool, expected: String) {
        var machine = Machine(webSocket: Socket())
        guard case .closeDown(let closing) = machine.close(reason, transportGone: transportGone) else { Issue.record("should close"); return }
        let style =
            switch closing.transport {
            case .webSocketAbort: "abort"
            case .webSocketEdgeCloses: "edge"
            case .webSocketGone: "gone"
            case .webSocketGraceful: "graceful"
            case .polling: "polling"
            }
        #expect(style == expected)
    }

    @Test("a WebSocket session's own socket: packets, bad frames, oversize, close; other sockets are stale")
    func webSocketSession() {
        let socket = Socket()
        var machine = Machine(webSocket: socket)
        #expect(machine.source(of: Socket()) == .stale)
        #expect(describe(machine.received(.message("x"), from: Socket())) == "none")
        #expect(describe(machine.socketWritable(Socket())) == "none")
        #expect(describe(machine.socketWritable(socket)) == "drain")
        #expect(describe(machine.received(.message("x"), from: socket)) == "deliver 4x")
        var malformed = Machine(webSocket: socket)
        #expect(describe(malformed.receivedMalformed(from: socket)) == "closeDown parse error")
        var tooLarge = Machine(webSocket: socket)
        #expect(describe(tooLarge.receivedTooLarge(from: socket)) == "closeDown payload too large")
        #expect(describe(machine.socketClosed(socket)) == "closeDown transport close")
    }
}
