import HTTPTypes
import Hummingbird

/// The `Idempotency-Key` request header (IETF draft "The Idempotency-Key HTTP Header Field"):
/// 1 to 255 visible ASCII characters, scoped to the producer that sent it.
enum IdempotencyKey {
    static let header = HTTPField.Name("Idempotency-Key")!
    /// Set on the answer to a retry: nothing was applied this time.
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    /// The key of `request`, nil when it has none; a malformed one is refused (400).
    static func of(_ request: Request) throws -> String? {
        guard let value = request.headers[header] else { return nil }
        guard isVisibleASCII(value, maxBytes: 255) else {
            throw APIError.badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters.")
        }
        return value
    }

    /// 1 to `maxBytes` visible ASCII characters (no space, no control, nothing else): the rule
    /// for idempotency keys and event ids alike.
    static func isVisibleASCII(_ text: String, maxBytes: Int) -> Bool {
        (1...maxBytes).contains(text.utf8.count) && text.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// A short stable digest of what a request carried (FNV-1a, 64 bits, hex): a key reused with
    /// another body is told apart from a retry.
    static func fingerprint(_ parts: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for byte in part.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            hash ^= 0xff  // a separator, so ["ab","c"] and ["a","bc"] differ
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
