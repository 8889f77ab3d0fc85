import NIOCore
import SocketIOCodec

/// A Socket.IO packet encoded once: the Engine.IO message frame and, for binary packets, the
/// attachment frames that follow it.
public struct OutboundMessage: Sendable {
    public var header: EncodedFrame
    public let attachments: [EncodedFrame]

    public init(header: EncodedFrame, attachments: [EncodedFrame] = []) {
        self.header = header
        self.attachments = attachments
    }

    public init(_ packet: SocketPacket, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        let encoded = packet.encode()
        header = EncodedFrame(text: "4" + encoded.text, allocator: allocator)
        attachments = encoded.attachments.map { EncodedFrame(binary: $0, allocator: allocator) }
    }

    /// An event whose payload is already JSON text (the broadcast fast path).
    /// `sequences`: the stream sequences it carries, so a lagging socket's skips can be declared.
    public static func event(
        namespace: NamespacePath, name: String, payloadJSON: String, conflation: ConflationKey? = nil, sequences: ClosedRange<UInt64>? = nil
    ) -> OutboundMessage {
        var header = EncodedFrame(text: "4" + SocketPacket.eventText(namespace: namespace.value, event: name, payloadJSON: payloadJSON))
        header.conflation = conflation
        header.sequences = sequences
        return OutboundMessage(header: header)
    }
}

extension EngineSession {
    public func send(_ message: OutboundMessage) {
        // A binary message is one MessagePack frame: its attachments travel inside it.
        if parser == .msgpack, !message.attachments.isEmpty {
            if let whole = message.header.messagePack?.frame ?? MessagePackEncoding.frame(for: message) { send(whole) }
            return
        }
        send(message.header)
        for attachment in message.attachments { send(attachment) }
    }
}
