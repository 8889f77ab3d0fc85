import NIOCore
import SocketIOCodec

extension EngineSession {
    /// A WebSocket that wants to take over this polling session. Refused (and closed by the
    /// caller) when the session is already upgraded or another probe is running.
    package func attachProbe(_ channel: WebSocketWriter) -> Bool {
        eventLoop.preconditionInEventLoop()
        guard !isClosed, case .polling = transport, probe == nil else { return false }
        probe = channel
        probeAnswered = false
        upgradeDeadline = eventLoop.scheduleTask(in: configuration.upgradeTimeout) { [self] in
            abandonProbe()
        }
        return true
    }

    func abandonProbe() {
        upgradeDeadline?.cancel()
        upgradeDeadline = nil
        probe?.close()
        probe = nil
        probeAnswered = false
    }

    /// A packet from a WebSocket of this session (the transport, or a probe).
    package func webSocketReceived(_ packet: EnginePacket, from channel: WebSocketWriter) {
        guard !isClosed else { return }
        if let probe, probe === channel {
            probeReceived(packet, from: channel)
        } else if case .websocket(let current) = transport, current === channel {
            receive(packet)
        }
    }

    /// Upgrade: `2probe` → `3probe` (and nothing else on that socket), GETs get `6`, then `5`
    /// switches transports and the backlog continues on the WebSocket.
    private func probeReceived(_ packet: EnginePacket, from channel: WebSocketWriter) {
        switch packet {
        case .ping("probe") where !probeAnswered:
            probeAnswered = true
            channel.write(EncodedFrame(text: "3probe").frame)
            channel.flush()
            if let promise = pendingPoll {
                pendingPoll = nil
                promise.succeed(.payload(ByteBuffer(string: "6")))
            }
        case .upgrade where probeAnswered:
            upgradeDeadline?.cancel()
            upgradeDeadline = nil
            probe = nil
            probeAnswered = false
            if let promise = pendingPoll {
                pendingPoll = nil
                promise.succeed(.payload(ByteBuffer(string: "6")))
            }
            transport = .websocket(channel)
            metrics.engineConnectionsPolling.decrement(by: 1)
            metrics.engineConnectionsWebSocket.increment(by: 1)
            logger.debug("Upgraded to WebSocket")
            scheduleFlush()
        default:
            // Anything else on a probing socket ends the probe; polling carries on.
            abandonProbe()
        }
    }

    /// A WebSocket frame that was not a valid Engine.IO packet.
    package func webSocketMalformed(_ error: CodecError, from channel: WebSocketWriter) {
        if let probe, probe === channel {
            abandonProbe()
        } else {
            receivedMalformed(error)
        }
    }

    /// The WebSocket's TCP connection went away.
    package func webSocketClosed(_ channel: WebSocketWriter) {
        if let probe, probe === channel {
            abandonProbe()
        } else if case .websocket(let current) = transport, current === channel {
            close(reason: .transportClose, transportGone: true)
        }
    }

    /// The WebSocket drained below its low watermark: move queued frames on.
    package func webSocketWritable(_ channel: WebSocketWriter) {
        guard !isClosed, case .websocket(let current) = transport, current === channel else { return }
        drainBacklog(into: channel)
        channel.flush()
    }

    /// A message bigger than maxPayload: the connection is closed (WebSocket code 1009).
    package func webSocketTooLarge(from channel: WebSocketWriter) {
        if let probe, probe === channel {
            abandonProbe()
        } else {
            close(reason: .payloadTooLarge)
        }
    }
}
