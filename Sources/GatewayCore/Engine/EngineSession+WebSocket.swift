import NIOCore
import SocketIOCodec

/// The WebSocket side of a session: its transport's packets, and the upgrade of a polling
/// session (probe `2probe` → `3probe`, then `5`), decided by ``EngineSessionState``.
extension EngineSession {
    /// A WebSocket that wants to take over this polling session. Refused (and closed by the
    /// caller) when the session is already upgraded or another probe is running.
    package func attachProbe(_ channel: WebSocketWriter) -> Bool {
        eventLoop.preconditionInEventLoop()
        guard state.attachProbe(channel) else { return false }
        upgradeDeadline = eventLoop.scheduleTask(in: configuration.upgradeTimeout) { [self] in
            abandonProbe()
        }
        return true
    }

    func abandonProbe() {
        upgradeDeadline?.cancel()
        upgradeDeadline = nil
        state.abandonProbe()?.close()
    }

    /// A packet from a WebSocket of this session (the transport, or a probe).
    package func webSocketReceived(_ packet: EnginePacket, from channel: WebSocketWriter) {
        switch state.source(of: channel) {
        case .probe: probeReceived(packet, from: channel)
        case .transport: receive(packet)
        case .stale: break
        }
    }

    /// Upgrade: `2probe` → `3probe` (and nothing else on that socket), GETs get `6`, then `5`
    /// switches transports and the backlog continues on the WebSocket.
    private func probeReceived(_ packet: EnginePacket, from channel: WebSocketWriter) {
        switch state.probeReceived(packet) {
        case .answer:
            channel.write(EncodedFrame(text: "3probe").frame)
            channel.flush()
            releasePendingPoll()
        case .upgraded:
            upgradeDeadline?.cancel()
            upgradeDeadline = nil
            releasePendingPoll()
            metrics.engineConnectionsPolling.decrement(by: 1)
            metrics.engineConnectionsWebSocket.increment(by: 1)
            if case .websocket(let writer) = transport { openWebSocket = writer }
            logger.debug("Upgraded to WebSocket")
            scheduleFlush()
        case .abandon(let probe):
            // Anything else on a probing socket ends the probe; polling carries on.
            upgradeDeadline?.cancel()
            upgradeDeadline = nil
            probe.close()
        case .ignore:
            break
        }
    }

    /// A waiting GET is answered with a noop so the client can switch transports.
    private func releasePendingPoll() {
        guard let promise = pendingPoll else { return }
        pendingPoll = nil
        promise.succeed(.payload(ByteBuffer(string: "6")))
    }

    /// A WebSocket frame that was not a valid Engine.IO packet.
    package func webSocketMalformed(_ error: CodecError, from channel: WebSocketWriter) {
        switch state.source(of: channel) {
        case .probe: abandonProbe()
        case .transport: receivedMalformed(error)
        case .stale: break
        }
    }

    /// The WebSocket's TCP connection went away.
    package func webSocketClosed(_ channel: WebSocketWriter) {
        switch state.source(of: channel) {
        case .probe: abandonProbe()
        case .transport: close(reason: .transportClose, transportGone: true)
        case .stale: break
        }
    }

    /// The WebSocket drained below its low watermark: move queued frames on.
    package func webSocketWritable(_ channel: WebSocketWriter) {
        guard !isClosed, state.source(of: channel) == .transport else { return }
        drainBacklog(into: channel)
        channel.flush()
    }

    /// A message bigger than maxPayload: the connection is closed (WebSocket code 1009).
    package func webSocketTooLarge(from channel: WebSocketWriter) {
        switch state.source(of: channel) {
        case .probe: abandonProbe()
        case .transport: close(reason: .payloadTooLarge)
        case .stale: break
        }
    }
}
