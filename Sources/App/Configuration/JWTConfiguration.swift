import Foundation
import JWTAuth

/// `jwt.*` but the expiry warning (which the namespaces enforce): how tokens are verified.
struct JWTConfiguration: Sendable {
    /// nil: development mode (a random secret is generated at start-up).
    var key: JWTKey?
    var secret: String?
    var claimChecks: ClaimChecks

    init(reading reader: inout ConfigurationReader) {
        claimChecks = ClaimChecks(
            issuer: reader.string("jwt.issuer").nonEmpty,
            audience: reader.string("jwt.audience").nonEmpty,
            leewaySeconds: Double(reader.int("jwt.leewaySeconds", in: 0...3600))
        )
        secret = reader.string("jwt.secret").nonEmpty
        key = nil
        if let file = reader.string("jwt.publicKeyFile").nonEmpty {
            if secret != nil {
                reader.problem("jwt.publicKeyFile", "set either JWT_SECRET or JWT_PUBLIC_KEY_FILE, not both")
            } else if let pem = try? String(contentsOfFile: file, encoding: .utf8) {
                do {
                    key = try JWTKey.publicKey(pem: pem)
                } catch {
                    reader.problem("jwt.publicKeyFile", error.message)
                }
            } else {
                reader.problem("jwt.publicKeyFile", "cannot read the file")
            }
        } else if let secret {
            if secret.utf8.count < 16 { reader.problem("jwt.secret", "must be at least 16 bytes") }
            key = .secret(secret)
        }
    }
}
