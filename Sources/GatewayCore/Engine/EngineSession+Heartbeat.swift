import NIOCore

extension EngineSession {
    /// The next ping goes out `pingInterval` after the last pong (or the open).
    func schedulePing() {
        pingTask?.cancel()
        pingTask = loopContext.timers(after: configuration.pingInterval).arm { [self] in
            perform(machine.pingDue())
        }
    }

    /// Pings jump the queue: on a WebSocket they bypass the backlog, on polling they go first,
    /// so a busy socket is never timed out by its own backlog. The pong deadline starts now,
    /// even if no GET is waiting to carry the ping.
    func sendPing(on writer: (any FrameWriter)?) {
        let ping = EncodedFrame(text: "2")
        if let writer {
            // Behind this tick's frames (already the socket's), ahead of any backlog.
            if pending.append(ping.frame) { writer.write(pending.take()!) }
            flushWrites(to: writer)
        } else {
            backlog.prepend(ping)
            scheduleFlush()
        }
        pongDeadline?.cancel()
        pongDeadline = loopContext.timers(after: configuration.pingTimeout).arm { [self] in
            let action = machine.pongDeadlinePassed()
            if case .closeDown = action { logger.debug("No pong within pingTimeout") }
            perform(action)
        }
    }
}
