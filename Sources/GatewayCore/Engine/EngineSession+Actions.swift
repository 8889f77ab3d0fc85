import NIOCore
import SocketIOCodec

/// The I/O each of the state machine's actions stands for. Request-scoped actions (answers to
/// the GET or POST being handled) are carried out by the request's own method.
extension EngineSession {
    func perform(_ action: StateMachine.Action) {
        switch action {
        case .none, .holdGet, .respond, .respondWithQueued, .acceptPost:
            break
        case .deliver(let packet):
            deliver(packet)
        case .schedulePing:
            pongDeadline?.cancel()
            pongDeadline = nil
            schedulePing()
        case .sendPing(let writer):
            sendPing(on: writer)
        case .closeDown(let closing), .closeDownAndRespond(let closing, _):
            closeDown(closing)
        case .startUpgradeDeadline:
            upgradeDeadline = eventLoop.scheduleTask(in: configuration.upgradeTimeout) { [self] in
                perform(machine.abandonProbe())
            }
        case .refuseProbe:
            break  // the edge answers 101 and then closes it, as the reference server does
        case .answerProbe(let writer, let releaseHeldGet):
            writer.write(EncodedFrame(text: "3probe").frame)
            writer.flush()
            if releaseHeldGet { answerHeldGet(.payload(ByteBuffer(string: "6"))) }
        case .completeUpgrade(_, let releaseHeldGet):
            cancelUpgradeDeadline()
            if releaseHeldGet { answerHeldGet(.payload(ByteBuffer(string: "6"))) }
            metrics.engineConnectionsPolling.decrement(by: 1)
            metrics.engineConnectionsWebSocket.increment(by: 1)
            logger.debug("Upgraded to WebSocket")
            scheduleFlush()
        case .abandonProbe(let writer):
            cancelUpgradeDeadline()
            writer.abort()
        case .drain(let writer):
            drainBacklog(into: writer)
        case .answerHeldGet:
            answerHeldGet(.payload(takePollingBatch()))
        }
    }

    private func deliver(_ packet: EnginePacket) {
        if case .message(let text) = packet {
            handler?.received(text: text, on: self)
        } else if case .binaryMessage(let bytes) = packet {
            handler?.received(binary: bytes, on: self)
        }
    }

    func answerHeldGet(_ response: PollResponse) {
        guard let promise = heldGet else { return }
        heldGet = nil
        promise.succeed(response)
    }

    func cancelUpgradeDeadline() {
        upgradeDeadline?.cancel()
        upgradeDeadline = nil
    }
}
