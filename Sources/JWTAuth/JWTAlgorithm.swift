import Foundation

/// The signature algorithms the gateway accepts. `none` is never one of them.
public enum JWTAlgorithm: String, Sendable, CaseIterable {
    case hs256 = "HS256"
    case rs256 = "RS256"
    case es256 = "ES256"

    var isSymmetric: Bool { self == .hs256 }
}

/// The configured verification key; the key decides the algorithm, never the token.
public struct JWTKey: Sendable {
    public let algorithm: JWTAlgorithm
    let material: [UInt8]

    /// HS256 with a shared secret (`JWT_SECRET`).
    public static func secret(_ secret: String) -> JWTKey {
        JWTKey(algorithm: .hs256, material: Array(secret.utf8))
    }

    /// RS256 or ES256 with a PEM public key (`JWT_PUBLIC_KEY_FILE`); the algorithm follows the
    /// key type, read from the algorithm OID inside the key.
    public static func publicKey(pem: String) throws(JWTAuthError) -> JWTKey {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard pem.contains("PUBLIC KEY-----"), let der = Data(base64Encoded: body) else {
            throw JWTAuthError(.invalidConfiguration, "the public key file holds no PEM public key")
        }
        let bytes = [UInt8](der)
        if pem.contains("BEGIN RSA PUBLIC KEY") || bytes.contains(sequence: rsaEncryptionOID) {
            return JWTKey(algorithm: .rs256, material: Array(pem.utf8))
        }
        if bytes.contains(sequence: ecPublicKeyOID) {
            return JWTKey(algorithm: .es256, material: Array(pem.utf8))
        }
        throw JWTAuthError(.invalidConfiguration, "the public key is neither RSA nor EC (P-256)")
    }

    /// DER of 1.2.840.113549.1.1.1 (rsaEncryption) and 1.2.840.10045.2.1 (id-ecPublicKey).
    private static let rsaEncryptionOID: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
    private static let ecPublicKeyOID: [UInt8] = [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]
}

extension Array where Element == UInt8 {
    fileprivate func contains(sequence: [UInt8]) -> Bool {
        guard count >= sequence.count else { return false }
        for start in 0...(count - sequence.count) where self[start..<(start + sequence.count)].elementsEqual(sequence) {
            return true
        }
        return false
    }
}
