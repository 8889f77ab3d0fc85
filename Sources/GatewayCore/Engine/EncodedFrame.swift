import NIOCore
import SocketIOCodec

/// An Engine.IO packet encoded once for both transports: the complete server-to-client WebSocket
/// frame (unmasked, so byte-identical for every subscriber) whose payload slice is also what a
/// polling response carries. Copies share storage, so a broadcast writes one buffer everywhere.
public struct EncodedFrame: Sendable {
    public let frame: ByteBuffer
    public let headerLength: Int
    public let isBinary: Bool
    /// The message's other wire forms, when made; one reference, so that the frame every
    /// backlog entry copies stays as small as it was without them.
    private var variants: FrameVariants?

    /// What a socket that negotiated permessage-deflate writes for this message (the frame
    /// compressed, RSV1 set; or the plain frame when compressing did not shrink it), made once
    /// per broadcast (``FrameCompression/prepare(_:)``); nil when not made.
    public var deflated: ByteBuffer? {
        get { variants?.deflated }
        set { variants = FrameVariants(deflated: newValue, messagePack: variants?.messagePack) }
    }

    /// The same message in the msgpack parser's form, made once per broadcast while msgpack
    /// sessions are open (``MessagePackEncoding/prepare(_:)``); nil when not made.
    public var messagePack: MessagePackVariant? {
        get { variants?.messagePack }
        set { variants = FrameVariants(deflated: variants?.deflated, messagePack: newValue) }
    }
    /// Market data a lagging socket may conflate; nil for everything else.
    public var conflation: ConflationKey?
    /// The stream sequences this message carries (a trade's `seq`; a depth delta's
    /// `prevSeq + 1 ... seq`), so what a lagging socket skips can be declared.
    public var sequences: ClosedRange<UInt64>?
    /// What a backlog entry that is not written stands for; nil for a frame to write.
    private(set) var marker: Marker?

    enum Marker {
        /// A skipped chained message: reaching it asks the namespace for a snapshot.
        case resync
        /// A replay (``EngineSession/startReplay(_:)``): while it is at the front, frames come
        /// from the replay.
        case replay
        /// Skipped numbered messages (``sequences``): reaching it asks the namespace for the
        /// notice that declares them.
        case gap
        /// A slot whose message was skipped and declared by an earlier gap marker.
        case vacated
    }

    public var isReplayMarker: Bool { marker == .replay }

    /// A text packet: `4` + Socket.IO text, `2`, `3probe`, …
    public init(text: String, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        let length = text.utf8.count
        var buffer = allocator.buffer(capacity: length + 10)
        headerLength = WebSocketFrameHeader.write(.text, length: length, into: &buffer)
        buffer.writeString(text)
        frame = buffer
        isBinary = false
    }

    public init(packet: EnginePacket, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        if case .binaryMessage(let bytes) = packet {
            self.init(binary: bytes, allocator: allocator)
        } else {
            self.init(text: packet.encodedText, allocator: allocator)
        }
    }

    /// A binary message (a Socket.IO attachment): raw bytes, no type byte in Engine.IO v4.
    public init(binary: ByteBuffer, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        var buffer = allocator.buffer(capacity: binary.readableBytes + 10)
        headerLength = WebSocketFrameHeader.write(.binary, length: binary.readableBytes, into: &buffer)
        var copy = binary
        buffer.writeBuffer(&copy)
        frame = buffer
        isBinary = true
    }

    /// The empty frame every marker is made from (copies share its storage: a marker allocates
    /// nothing).
    private static let emptyText = EncodedFrame(text: "")

    static func marker(_ kind: Marker, _ key: ConflationKey? = nil, sequences: ClosedRange<UInt64>? = nil) -> EncodedFrame {
        var marker = emptyText
        marker.conflation = key
        marker.marker = kind
        marker.sequences = sequences
        return marker
    }


    /// Bytes on the wire for a WebSocket; used for slow-consumer accounting.
    public var byteCount: Int { frame.readableBytes }

    public var payloadLength: Int { frame.readableBytes - headerLength }

    /// The Engine.IO packet bytes without the WebSocket header.
    public var payload: ByteBuffer {
        frame.getSlice(at: frame.readerIndex + headerLength, length: frame.readableBytes - headerLength)!
    }
}

/// An encoded message's other wire forms (``EncodedFrame/deflated``,
/// ``EncodedFrame/messagePack``), made once per broadcast and shared by every copy of the frame.
public final class FrameVariants: Sendable {
    let deflated: ByteBuffer?
    let messagePack: MessagePackVariant?

    init(deflated: ByteBuffer?, messagePack: MessagePackVariant?) {
        self.deflated = deflated
        self.messagePack = messagePack
    }
}
