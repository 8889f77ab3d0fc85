import Foundation
import GatewayJSON

/// The token's header, read before anything is trusted so the algorithm and key can be chosen
/// by the configuration (jwt-kit's "the key owns the algorithm").
struct TokenHeader {
    let algorithm: String
    let kid: String?
    /// The token's other parts, for verifiers that work on them (EdDSA).
    let signingInput: Substring
    let payload: Substring
    let signature: Substring

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
        signingInput = token[parts[0].startIndex..<parts[1].endIndex]
        payload = parts[1]
        signature = parts[2]
        switch header["kid"] {
        case nil, .null?:
            kid = nil
        case .string(let kid)? where KeyID.problem(with: kid) == nil:
            self.kid = kid
        default:
            throw .unauthorized("The token header's kid is not a short text.")
        }
    }
}

/// The base64url segments of a JWT (RFC 7515: no padding), decoded by Foundation after
/// mapping to the standard alphabet.
enum Base64URL {
    static func decode(_ text: Substring) -> [UInt8]? {
        var standard = String(text).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        return Data(base64Encoded: standard).map(Array.init)
    }
}
