import Foundation

/// One verification key. The key owns the algorithm: a token is checked only with keys whose
/// algorithm is the one its header names.
public struct JWTKey: Sendable {
    public let algorithm: JWTAlgorithm
    /// The `kid` tokens name to select this key; nil for a key chosen by algorithm alone.
    public let kid: String?
    /// Seconds since the epoch after which the key verifies nothing (`jwt.previousSecret`).
    public let validUntil: Double?
    /// The HMAC secret, a PEM public key (libjwt), or a raw Ed25519 public key (32 bytes).
    let material: [UInt8]

    init(algorithm: JWTAlgorithm, material: [UInt8], kid: String? = nil, validUntil: Double? = nil) {
        self.algorithm = algorithm
        self.material = material
        self.kid = kid
        self.validUntil = validUntil
    }

    /// HMAC with a shared secret (`JWT_SECRET`); HS256 unless another HS algorithm is named.
    public static func secret(_ secret: String, algorithm: JWTAlgorithm = .hs256, kid: String? = nil, validUntil: Double? = nil) -> JWTKey {
        JWTKey(algorithm: algorithm, material: Array(secret.utf8), kid: kid, validUntil: validUntil)
    }

    /// A PEM public key (`JWT_PUBLIC_KEY_FILE`, `jwt.keys[].publicKeyFile`). The algorithm
    /// follows the key: RSA → RS256, EC P-256 → ES256, P-384 → ES384, P-521 → ES512,
    /// Ed25519 → EdDSA; `algorithm` may pick RS384/RS512 for an RSA key.
    public static func publicKey(pem: String, kid: String? = nil, algorithm: JWTAlgorithm? = nil) throws(JWTAuthError) -> JWTKey {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard pem.contains("PUBLIC KEY-----"), let der = Data(base64Encoded: body) else {
            throw JWTAuthError(.invalidConfiguration, "the public key file holds no PEM public key")
        }
        let kind = try OpenSSLKeys.kind(ofPublicKeyDER: [UInt8](der))
        return try make(kind: kind, pem: pem, kid: kid, algorithm: algorithm)
    }

    static func make(kind: OpenSSLKeys.Kind, pem: String, kid: String?, algorithm: JWTAlgorithm?) throws(JWTAuthError) -> JWTKey {
        let natural: JWTAlgorithm
        let allowed: [JWTAlgorithm]
        switch kind {
        case .rsa: natural = .rs256; allowed = [.rs256, .rs384, .rs512]
        case .ec(let curve):
            switch curve {
            case "P-256": natural = .es256
            case "P-384": natural = .es384
            case "P-521": natural = .es512
            default: throw JWTAuthError(.invalidConfiguration, "the EC key's curve \(curve) is not P-256, P-384 or P-521")
            }
            allowed = [natural]
        case .ed25519(let raw):
            guard algorithm == nil || algorithm == .edDSA else {
                throw JWTAuthError(.invalidConfiguration, "an Ed25519 key signs EdDSA, not \(algorithm!.rawValue)")
            }
            return JWTKey(algorithm: .edDSA, material: raw, kid: kid)
        }
        let chosen = algorithm ?? natural
        guard allowed.contains(chosen) else {
            throw JWTAuthError(.invalidConfiguration, "a \(kind.name) key cannot verify \(chosen.rawValue)")
        }
        return JWTKey(algorithm: chosen, material: Array(pem.utf8), kid: kid)
    }
}
