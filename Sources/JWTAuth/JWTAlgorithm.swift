/// The signature algorithms the gateway accepts. `none` is never one of them; the key decides
/// which one a token must use.
public enum JWTAlgorithm: String, Sendable, CaseIterable {
    case hs256 = "HS256", hs384 = "HS384", hs512 = "HS512"
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"
    case es256 = "ES256", es384 = "ES384", es512 = "ES512"
    /// Ed25519 (RFC 8037). libjwt 1.10 has no EdDSA, so OpenSSL checks these signatures.
    case edDSA = "EdDSA"

    var isSymmetric: Bool { self == .hs256 || self == .hs384 || self == .hs512 }
}
