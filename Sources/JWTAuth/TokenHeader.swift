import SocketIOCodec

/// The token's header, read before anything is trusted so the algorithm can be compared with
/// the configured key (jwt-kit's "the key owns the algorithm").
struct TokenHeader {
    let algorithm: String

    init(token: String) throws(JWTAuthError) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .unauthorized("The token is not a JWT (expected three dot-separated parts).")
        }
        guard let bytes = Base64URL.decode(parts[0]),
            let header = try? JSONParser.parse(bytes),
            let algorithm = header["alg"]?.stringValue
        else {
            throw .unauthorized("The token header is not valid.")
        }
        self.algorithm = algorithm
    }
}

enum Base64URL {
    static func decode(_ text: Substring) -> [UInt8]? {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8.enumerated() {
            table[Int(byte)] = UInt8(value)
        }
        var output: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "=") { break }
            let value = table[Int(byte)]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        return output
    }
}
