import Foundation
import NIOCore

/// One load client's connection: the WebSocket upgrade, then frames parsed in place from the
/// inbound bytes. It follows its `ClientScript` up to the ack (`ready` succeeds), then counts
/// every event on its namespace as a delivery, timed when the event carries a send time.
final class SocketIOClientHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Where the client is, named by what it waits for (in timeout and close errors).
    private enum Stage: String {
        case connecting = "the TCP connection"
        case upgrading = "the WebSocket upgrade"
        case opening = "the Engine.IO open packet"
        case joining = "the namespace CONNECT answer"
        case requesting = "the ack"
        case ready, failed
    }

    private static let headEnd = Array("\r\n\r\n".utf8)
    private let script: ClientScript
    private let request: String?
    private let upgradeRequest: String
    private let stats: LoopStats
    private let ready: EventLoopPromise<Void>
    private let timeout: TimeAmount
    private var stage = Stage.connecting
    private var pending: ByteBuffer?
    private var timer: Scheduled<Void>?
    /// Set when this side closes (the run is over, a wave leaves): not counted as a drop.
    private var closingLocally = false

    init(script: ClientScript, request: String?, upgradeRequest: String, stats: LoopStats, ready: EventLoopPromise<Void>, timeout: TimeAmount) {
        self.script = script
        self.request = request
        self.upgradeRequest = upgradeRequest
        self.stats = stats
        self.ready = ready
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            fail(.timedOut(waitingFor: stage.rawValue), context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelActive(context: ChannelHandlerContext) {
        stage = .upgrading
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: upgradeRequest)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if pending == nil {
            pending = incoming
        } else {
            pending!.writeBuffer(&incoming)
        }
        if stage == .upgrading, !readUpgradeResponse(context: context) { return }
        readFrames(context: context)
        if let buffer = pending {
            if buffer.readableBytes == 0 {
                pending = nil
            } else if buffer.readerIndex > 64 * 1024 {
                pending!.discardReadBytes()
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch stage {
        case .ready: if !closingLocally { stats.record(.dropped) }
        case .failed: break
        default: fail(.closed(waitingFor: stage.rawValue), context: context)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if stage == .ready {
            context.close(promise: nil)
        } else {
            fail(ClientFailure(error), context: context)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        closingLocally = true
        context.close(mode: mode, promise: promise)
    }

    /// False until the whole response head is in, or when the upgrade was refused.
    private func readUpgradeResponse(context: ChannelHandlerContext) -> Bool {
        guard let view = pending?.readableBytesView, let end = view.firstRange(of: Self.headEnd) else { return false }
        let head = pending!.readString(length: end.upperBound - view.startIndex) ?? ""
        guard head.hasPrefix("HTTP/1.1 101") else {
            fail(.upgrade(status: String(head.prefix { $0 != "\r" })), context: context)
            return false
        }
        if case .raw = script.wire { succeed() } else { stage = .opening }
        return true
    }

    private func readFrames(context: ChannelHandlerContext) {
        while stage != .failed, let buffer = pending, let frame = WebSocketFrames.next(in: buffer) {
            switch frame.opcode {
            case WebSocketFrames.Opcode.text: readText(context: context, buffer: buffer, frame: frame)
            case WebSocketFrames.Opcode.ping:
                let payload = buffer.getSlice(at: frame.payloadIndex, length: frame.payloadLength) ?? ByteBuffer()
                let pong = WebSocketFrames.frame(opcode: WebSocketFrames.Opcode.pong, payload: payload, allocator: context.channel.allocator)
                context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
            case WebSocketFrames.Opcode.close: context.close(promise: nil)
            default: break
            }
            pending?.moveReaderIndex(forwardBy: frame.size)
        }
    }

    private func readText(context: ChannelHandlerContext, buffer: ByteBuffer, frame: WebSocketFrames.Frame) {
        // The hot path: an event once ready, compared as bytes, no String made.
        if stage == .ready {
            if case .raw = script.wire {
                return recordDelivery(buffer: buffer, frame: frame)
            }
            if buffer.hasPrefix(script.eventPrefix, at: frame.payloadIndex, length: frame.payloadLength) {
                return recordDelivery(buffer: buffer, frame: frame)
            }
        }
        guard case .socketIO = script.wire, let text = buffer.getString(at: frame.payloadIndex, length: frame.payloadLength) else { return }
        if text == "2" {
            send("3", context: context)  // Engine.IO ping → pong
        } else if stage == .opening, text.hasPrefix("0{") {
            send(script.connectPacket, context: context)
            stage = .joining
        } else if stage == .joining, text.hasPrefix(script.connectedPrefix) {
            if let request {
                send(request, context: context)
                stage = .requesting
            } else {
                succeed()
            }
        } else if text.hasPrefix(script.connectErrorPrefix) {
            fail(.namespace(packet: text), context: context)
        } else if stage == .requesting, text.hasPrefix(script.ackPrefix) {
            if ClientScript.ackRefuses(text, after: script.ackPrefix) {
                fail(.ack(packet: text), context: context)
            } else {
                succeed()
            }
        }
    }

    private func recordDelivery(buffer: ByteBuffer, frame: WebSocketFrames.Frame) {
        stats.deliveredBytes += frame.payloadLength
        switch script.clock {
        case .sentMonotonic:
            guard buffer.hasPrefix(script.tickPrefix, at: frame.payloadIndex, length: frame.payloadLength),
                let sent = buffer.unsignedInteger(at: frame.payloadIndex + script.tickPrefix.count)
            else { return stats.deliveries.countUntimed() }
            let now = NIODeadline.now().uptimeNanoseconds
            stats.deliveries.record(nanos: now > sent ? now - sent : 0)
        case .wallTimestamp:
            guard let ts = buffer.lastTimestamp(in: frame.payloadIndex..<(frame.payloadIndex + frame.payloadLength)) else {
                return stats.deliveries.countUntimed()
            }
            // Whole milliseconds: a nanosecond under each lands in the bucket ending at that
            // millisecond, so percentiles read 5 ms, not 5.05 (the bucket's upper edge).
            let nowMs = UInt64(Date().timeIntervalSince1970 * 1000)
            stats.deliveries.record(nanos: nowMs > ts ? (nowMs - ts) * 1_000_000 - 1 : 0)
        }
    }

    private func send(_ text: String, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(WebSocketFrames.text(text, allocator: context.channel.allocator)), promise: nil)
    }

    private func succeed() {
        stage = .ready
        timer?.cancel()
        ready.succeed()
    }

    private func fail(_ failure: ClientFailure, context: ChannelHandlerContext) {
        guard stage != .ready && stage != .failed else { return }
        stage = .failed
        timer?.cancel()
        ready.fail(failure)
        context.close(promise: nil)
    }
}
