import NIOCore

extension EnginePacket {
    /// The text form: for WebSocket text frames and polling records. Binary messages become
    /// `b<base64>` (the polling form; on a WebSocket send them as binary frames instead).
    public var encodedText: String {
        switch self {
        case .open(let json): "0" + json
        case .close: "1"
        case .ping(let payload): "2" + payload
        case .pong(let payload): "3" + payload
        case .message(let text): "4" + text
        case .binaryMessage(let bytes): "b" + Base64.encode(bytes.readableBytesView)
        case .upgrade: "5"
        case .noop: "6"
        }
    }

    /// True when a WebSocket must carry this packet in a binary frame.
    public var isBinary: Bool {
        if case .binaryMessage = self { return true }
        return false
    }
}
