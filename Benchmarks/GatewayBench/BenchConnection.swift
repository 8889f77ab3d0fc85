import Foundation
import NIOCore

/// One load-client WebSocket, hand-rolled for speed: an HTTP upgrade, then frames parsed in
/// place from the inbound bytes. For the gateway it joins the Socket.IO namespace and room;
/// every `tick` event's embedded send time gives one latency sample.
final class BenchConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum WireProtocol {
        case socketIO(namespace: String, room: String?)
        case raw
        /// The real gateway: `/prices`, subscribed to one symbol; latency from the feed's `ts`.
        case feed(symbol: String)
    }

    private enum State { case upgrading, open, ready }

    private let proto: WireProtocol
    private let stats: LoopStats
    private let ready: EventLoopPromise<Void>
    private let path: String
    private var state = State.upgrading
    private var pending: ByteBuffer?
    static let tickPrefix = Array(#"42/bench,["tick",{"t":"#.utf8)
    static let pricePrefix = Array(#"42/prices,["price."#.utf8)
    static let tsMarker = Array(#""ts":"#.utf8)
    static let rawTickPrefix = tickPrefix

    init(proto: WireProtocol, path: String, stats: LoopStats, ready: EventLoopPromise<Void>) {
        self.proto = proto
        self.path = path
        self.stats = stats
        self.ready = ready
    }

    func channelActive(context: ChannelHandlerContext) {
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if pending == nil {
            pending = incoming
        } else {
            pending!.writeBuffer(&incoming)
        }
        if state == .upgrading {
            guard let view = pending?.readableBytesView, let end = view.firstRange(of: Array("\r\n\r\n".utf8)) else { return }
            let headerLength = end.upperBound - view.startIndex
            let head = pending!.readString(length: headerLength) ?? ""
            guard head.hasPrefix("HTTP/1.1 101") else {
                ready.fail(ChannelError.inappropriateOperationForState)
                context.close(promise: nil)
                return
            }
            state = .open
            if case .raw = proto {
                state = .ready
                ready.succeed(())
            }
        }
        parseFrames(context: context)
        if let buffer = pending, buffer.readableBytes == 0 {
            pending = nil
        } else if pending!.readerIndex > 64 * 1024 {
            pending!.discardReadBytes()
        }
    }

    private func parseFrames(context: ChannelHandlerContext) {
        while var buffer = pending, buffer.readableBytes >= 2 {
            let start = buffer.readerIndex
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)!
            var length = Int(second & 0x7F)
            var offset = 2
            if length == 126 {
                guard buffer.readableBytes >= 4 else { return }
                length = Int(buffer.getInteger(at: start + 2, as: UInt16.self)!)
                offset = 4
            } else if length == 127 {
                guard buffer.readableBytes >= 10 else { return }
                length = Int(buffer.getInteger(at: start + 2, as: UInt64.self)!)
                offset = 10
            }
            guard buffer.readableBytes >= offset + length else { return }
            let opcode = buffer.getInteger(at: start, as: UInt8.self)! & 0x0F
            if opcode == 0x1 {
                handleText(context: context, buffer: buffer, at: start + offset, length: length)
            } else if opcode == 0x8 {
                context.close(promise: nil)
            }
            buffer.moveReaderIndex(forwardBy: offset + length)
            pending = buffer
        }
    }

    private func handleText(context: ChannelHandlerContext, buffer: ByteBuffer, at index: Int, length: Int) {
        let prefix = Self.tickPrefix
        if length > prefix.count, buffer.getInteger(at: index, as: UInt8.self) == UInt8(ascii: "4"),
            buffer.withUnsafeReadableBytes({ raw in
                let base = index - buffer.readerIndex
                for position in 0..<prefix.count where raw[base + position] != prefix[position] { return false }
                return true
            })
        {
            var sent: UInt64 = 0
            var position = index + prefix.count
            while let digit = buffer.getInteger(at: position, as: UInt8.self), digit >= 48, digit <= 57 {
                sent = sent * 10 + UInt64(digit - 48)
                position += 1
            }
            let now = NIODeadline.now().uptimeNanoseconds
            stats.record(latencyNanos: now > sent ? now - sent : 0)
            return
        }
        if case .feed(let symbol) = proto {
            return handleFeed(context: context, buffer: buffer, at: index, length: length, symbol: symbol)
        }
        guard case .socketIO(let namespace, let room) = proto else { return }
        let text = buffer.getString(at: index, length: length) ?? ""
        if text == "2" {
            send(context: context, "3")
        } else if text.hasPrefix("0{") {
            send(context: context, "40\(namespace),")
        } else if text.hasPrefix("40\(namespace),{") {
            if let room {
                send(context: context, "42\(namespace),1[\"join\",\"\(room)\"]")
            } else {
                state = .ready
                ready.succeed(())
            }
        } else if text.hasPrefix("43\(namespace),1") {
            state = .ready
            ready.succeed(())
        }
    }

    /// `price.update` / `price.trade`: the feed's `ts` (ms since the epoch, the last field)
    /// against this machine's clock gives the feed→socket latency, to the millisecond.
    private func handleFeed(context: ChannelHandlerContext, buffer: ByteBuffer, at index: Int, length: Int, symbol: String) {
        let isPrice = buffer.withUnsafeReadableBytes { raw -> Bool in
            let base = index - buffer.readerIndex
            guard length > Self.pricePrefix.count else { return false }
            for position in 0..<Self.pricePrefix.count where raw[base + position] != Self.pricePrefix[position] { return false }
            return true
        }
        if isPrice {
            let ts = buffer.withUnsafeReadableBytes { raw -> UInt64? in
                let base = index - buffer.readerIndex
                let marker = Self.tsMarker
                var position = base + length - marker.count
                while position > base {
                    if raw[position] == marker[0], (0..<marker.count).allSatisfy({ raw[position + $0] == marker[$0] }) { break }
                    position -= 1
                }
                guard position > base else { return nil }
                var value: UInt64 = 0
                var cursor = position + marker.count
                while cursor < base + length, raw[cursor] >= 48, raw[cursor] <= 57 {
                    value = value * 10 + UInt64(raw[cursor] - 48)
                    cursor += 1
                }
                return value
            }
            if let ts {
                let nowMs = UInt64(Date().timeIntervalSince1970 * 1000)
                stats.record(latencyNanos: nowMs > ts ? (nowMs - ts) * 1_000_000 : 0)
            }
            return
        }
        let text = buffer.getString(at: index, length: length) ?? ""
        if text == "2" {
            send(context: context, "3")
        } else if text.hasPrefix("0{") {
            send(context: context, "40/prices,")
        } else if text.hasPrefix("40/prices,{") {
            send(context: context, #"42/prices,1["subscribe",{"symbols":["\#(symbol)"]}]"#)
        } else if text.hasPrefix("43/prices,1") {
            state = .ready
            ready.succeed(())
        }
    }

    /// A masked client text frame (the zero mask leaves the payload as is).
    func send(context: ChannelHandlerContext, _ text: String) {
        context.writeAndFlush(wrapOutboundOut(Self.frame(text, allocator: context.channel.allocator)), promise: nil)
    }

    static func frame(_ text: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let length = text.utf8.count
        var buffer = allocator.buffer(capacity: length + 14)
        buffer.writeInteger(UInt8(0x81))
        if length < 126 {
            buffer.writeInteger(UInt8(0x80 | length))
        } else if length < 65_536 {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(length))
        }
        buffer.writeInteger(UInt32(0))
        buffer.writeString(text)
        return buffer
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        ready.fail(error)
        context.close(promise: nil)
    }
}
