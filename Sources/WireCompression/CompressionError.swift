/// Why a compressed message or body could not be used. Each maps to a documented refusal:
/// a WebSocket closes with 1009 (``tooLarge``) or 1007 (``corrupt``).
public enum CompressionError: Error, Equatable, Sendable {
    /// The message inflates past the limit (`maxPayload`): a zip bomb, or simply too big.
    case tooLarge(limit: Int)
    /// The bytes are not a DEFLATE stream.
    case corrupt
    /// zlib could not start or run (out of memory); nothing the peer sent is at fault.
    case unavailable
}
