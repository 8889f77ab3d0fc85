import Atomics
import NIOCore
import SocketIOCodec
import WireCompression

/// What the gateway compresses on the wire (`server.compression`). Defaults: on, like
/// browsers' offers, because a broadcast is compressed once, not once per socket, and no socket
/// keeps a zlib context (docs/performance.md has the costs).
public struct CompressionSettings: Sendable, Equatable {
    /// permessage-deflate for WebSocket clients that offer it.
    public var webSocket: Bool
    /// gzip/deflate polling responses, by Accept-Encoding.
    public var polling: Bool
    /// Messages and bodies smaller than this many bytes go uncompressed (Node's default).
    public var threshold: Int
    /// zlib's level, 1 (fastest) … 9 (smallest).
    public var level: Int

    public init(webSocket: Bool = true, polling: Bool = true, threshold: Int = 1024, level: Int = 6) {
        self.webSocket = webSocket
        self.polling = polling
        self.threshold = threshold
        self.level = level
    }
}

/// The process's wire compression: its settings, how many sockets negotiated deflate (a
/// broadcast is compressed in advance only while some did), and the zlib streams to do it with.
public final class FrameCompression: Sendable {
    public let settings: CompressionSettings
    private let deflaters: DeflaterPool
    public let bodies: HTTPBodyCompressor
    /// Sockets that negotiated deflate, by parser: a form is compressed in advance only while
    /// some socket will write it.
    private let deflatingJSON = ManagedAtomic<Int>(0)
    private let deflatingMessagePack = ManagedAtomic<Int>(0)

    public init(settings: CompressionSettings = CompressionSettings()) {
        self.settings = settings
        deflaters = DeflaterPool(level: settings.level)
        bodies = HTTPBodyCompressor(level: settings.level)
    }

    /// The smallest payload a deflate socket gets compressed; `Int.max` when deflate is off.
    var webSocketThreshold: Int { settings.webSocket ? max(settings.threshold, 1) : .max }

    /// A socket that negotiated permessage-deflate opened (and, below, closed).
    public func deflateSocketOpened(parser: SocketIOParser = .json) { counter(parser).wrappingIncrement(ordering: .relaxed) }
    public func deflateSocketClosed(parser: SocketIOParser = .json) { counter(parser).wrappingDecrement(ordering: .relaxed) }
    public var deflateSocketCount: Int { deflatingJSON.load(ordering: .relaxed) + deflatingMessagePack.load(ordering: .relaxed) }

    private func counter(_ parser: SocketIOParser) -> ManagedAtomic<Int> {
        parser == .json ? deflatingJSON : deflatingMessagePack
    }

    /// `message` with its compressed frames made, when some socket will want them: done once
    /// per broadcast, before the fan-out, so every deflate socket writes the same bytes.
    public func prepare(_ message: OutboundMessage) -> OutboundMessage {
        let deflatingJSON = deflatingJSON.load(ordering: .relaxed) > 0
        let deflatingMessagePack = deflatingMessagePack.load(ordering: .relaxed) > 0
        guard settings.webSocket, deflatingJSON || deflatingMessagePack else { return message }
        let threshold = webSocketThreshold
        var prepared = message
        if deflatingJSON,
            message.header.payloadLength >= threshold || message.attachments.contains(where: { $0.payloadLength >= threshold })
        {
            prepared = OutboundMessage(header: message.header, attachments: message.attachments.map { attachment in
                var attachment = attachment
                attachment.deflated = deflatedFrame(for: attachment)
                return attachment
            })
            prepared.header.deflated = deflatedFrame(for: message.header)
        }
        if deflatingMessagePack, let variant = message.header.messagePack, variant.frame.payloadLength >= threshold {
            var frame = variant.frame
            frame.deflated = deflatedFrame(for: frame)
            prepared.header.messagePack = MessagePackVariant(frame: frame)
        }
        return prepared
    }

    /// The complete WebSocket frame (RSV1 set) carrying `frame`'s payload compressed; nil when
    /// the payload is under the threshold. When compression does not shrink the payload (or
    /// zlib fails), the plain frame itself: RFC 7692 lets every message choose, and what a
    /// deflate socket should write is decided once.
    public func deflatedFrame(for frame: EncodedFrame) -> ByteBuffer? {
        guard frame.payloadLength >= webSocketThreshold else { return nil }
        let payload = frame.payload
        guard let compressed = try? deflaters.withDeflater({ deflater throws(CompressionError) in try deflater.deflate(payload) }) else {
            return frame.frame
        }
        guard compressed.readableBytes < payload.readableBytes else { return frame.frame }
        var complete = ByteBufferAllocator().buffer(capacity: compressed.readableBytes + 10)
        WebSocketFrameHeader.write(frame.isBinary ? .binary : .text, length: compressed.readableBytes, compressed: true, into: &complete)
        complete.writeImmutableBuffer(compressed)
        return complete
    }
}
