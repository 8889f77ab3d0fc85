import Atomics
import NIOCore
import SocketIOCodec

/// A message in the msgpack parser's form: one Engine.IO binary frame (and its deflated form),
/// made once per broadcast and shared by every msgpack socket.
public final class MessagePackVariant: Sendable {
    public let frame: EncodedFrame

    init(frame: EncodedFrame) {
        self.frame = frame
    }
}

/// The process's msgpack sessions, and the translation of messages into their form. Messages
/// are encoded once as socket.io-parser text (what most clients read); while any msgpack
/// session is open, a broadcast is also encoded once as MessagePack before the fan-out
/// (``prepare(_:)``). A frame meant for one socket alone is translated for it as it is written.
public final class MessagePackEncoding: Sendable {
    private let sessions = ManagedAtomic<Int>(0)

    public init() {}

    func sessionOpened() { sessions.wrappingIncrement(ordering: .relaxed) }
    func sessionClosed() { sessions.wrappingDecrement(ordering: .relaxed) }
    public var sessionCount: Int { sessions.load(ordering: .relaxed) }

    /// `message` with its MessagePack form made, when some session will want it.
    public func prepare(_ message: OutboundMessage) -> OutboundMessage {
        guard sessions.load(ordering: .relaxed) > 0, let translated = Self.frame(for: message) else { return message }
        var header = message.header
        header.messagePack = MessagePackVariant(frame: translated)
        return OutboundMessage(header: header, attachments: message.attachments)
    }

    /// A text Engine.IO message (`4…`), which carries a Socket.IO packet; not an Engine.IO packet
    /// of its own (the open packet, a ping, a noop).
    static func isSocketIOMessage(_ frame: EncodedFrame) -> Bool {
        guard !frame.isBinary, frame.payloadLength >= 2 else { return false }
        return frame.frame.getInteger(at: frame.frame.readerIndex + frame.headerLength, as: UInt8.self) == UInt8(ascii: "4")
    }

    /// A whole message (its text header and binary attachments) as one MessagePack frame; nil
    /// for what is not a Socket.IO packet.
    public static func frame(for message: OutboundMessage) -> EncodedFrame? {
        frame(for: message.header, attachments: message.attachments)
    }

    /// One text Socket.IO message (`4` + packet text) as a MessagePack frame; nil for Engine.IO
    /// packets of its own (pings, the open packet), binary frames and markers.
    static func frame(for header: EncodedFrame, attachments: [EncodedFrame] = []) -> EncodedFrame? {
        guard isSocketIOMessage(header) else { return nil }
        let payload = header.payload
        do {
            var packet = try payload.withUnsafeReadableBytes { raw throws(CodecError) in
                try SocketPacket.decode(utf8: UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self).dropFirst()))
            }
            if packet.attachmentCount > 0 || packet.type == .binaryEvent || packet.type == .binaryAck {
                var assembler = BinaryAssembler(header: packet)
                for attachment in attachments { _ = try assembler.add(attachment.payload) }
                packet = try assembler.assemble()
            }
            var frame = EncodedFrame(binary: try packet.encodeMessagePack())
            frame.conflation = header.conflation
            frame.sequences = header.sequences
            return frame
        } catch {
            return nil
        }
    }
}
