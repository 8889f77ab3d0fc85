import GatewayJSON
import NIOCore

extension SocketPacket {
    /// The encoded packet: the text of the Engine.IO message and the binary messages that must
    /// follow it. Data that contains `.binary` values is promoted to BINARY_EVENT / BINARY_ACK,
    /// the buffers replaced depth-first by numbered placeholders.
    public struct Encoded: Sendable, Hashable {
        public var text: String
        public var attachments: [ByteBuffer]
    }

    public func encode() -> Encoded {
        var attachments: [ByteBuffer] = []
        var payload: String?
        if let data {
            var output = ""
            Self.write(data, into: &output, attachments: &attachments)
            payload = output
        }
        var type = self.type
        if !attachments.isEmpty {
            if type == .event { type = .binaryEvent }
            if type == .ack { type = .binaryAck }
        }
        var text = String(type.rawValue)
        if type == .binaryEvent || type == .binaryAck {
            text += String(attachments.count) + "-"
        }
        if namespace != "/" {
            text += namespace
            text += ","
        }
        if let ackID { text += String(ackID) }
        if let payload { text += payload }
        return Encoded(text: text, attachments: attachments)
    }

    private static func write(_ value: JSONValue, into output: inout String, attachments: inout [ByteBuffer]) {
        switch value {
        case .binary(let buffer):
            output += "{\"_placeholder\":true,\"num\":\(attachments.count)}"
            attachments.append(buffer)
        case .array(let items):
            output += "["
            for (position, item) in items.enumerated() {
                if position > 0 { output += "," }
                write(item, into: &output, attachments: &attachments)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (position, member) in members.enumerated() {
                if position > 0 { output += "," }
                JSONSerializer.writeString(member.key, into: &output)
                output += ":"
                write(member.value, into: &output, attachments: &attachments)
            }
            output += "}"
        default:
            JSONSerializer.write(value, into: &output)
        }
    }

    /// Fast path for broadcasts: the text of `42<nsp,>["<event>",<payload JSON>]` built from an
    /// already-encoded payload, without building a JSONValue tree.
    public static func eventText(namespace: String, event: String, payloadJSON: String) -> String {
        var text = "2"
        text.reserveCapacity(payloadJSON.utf8.count + event.utf8.count + namespace.utf8.count + 8)
        if namespace != "/" {
            text += namespace
            text += ","
        }
        text += "["
        JSONSerializer.writeString(event, into: &text)
        text += ","
        text += payloadJSON
        text += "]"
        return text
    }
}
