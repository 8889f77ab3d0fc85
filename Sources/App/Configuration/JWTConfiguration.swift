import Foundation
import GatewayJSON
import JWTAuth

/// `jwt.*` but the expiry warning (which the namespaces enforce): which keys verify tokens.
struct JWTConfiguration: Sendable {
    /// Keys read at start: the secret, the public key file, the keys file, the previous secret.
    var keys: [JWTKey]
    var secret: String?
    var jwks: JWKSSettings?
    var claimChecks: ClaimChecks

    /// No key and no JWKS: development mode (a random secret is generated at start-up).
    var isDevelopmentMode: Bool { keys.isEmpty && jwks == nil }

    init(reading reader: inout ConfigurationReader) {
        claimChecks = ClaimChecks(
            issuer: reader.string("jwt.issuer").nonEmpty,
            audience: reader.string("jwt.audience").nonEmpty,
            leewaySeconds: Double(reader.int("jwt.leewaySeconds", in: 0...3600))
        )
        secret = reader.string("jwt.secret").nonEmpty
        keys = []
        if let file = reader.string("jwt.publicKeyFile").nonEmpty {
            if secret != nil {
                reader.problem("jwt.publicKeyFile", "set either JWT_SECRET or JWT_PUBLIC_KEY_FILE, not both")
            } else if let pem = try? String(contentsOfFile: file, encoding: .utf8) {
                do {
                    keys.append(try JWTKey.publicKey(pem: pem))
                } catch {
                    reader.problem("jwt.publicKeyFile", error.message)
                }
            } else {
                reader.problem("jwt.publicKeyFile", "cannot read the file")
            }
        } else if let secret {
            if secret.utf8.count < 16 { reader.problem("jwt.secret", "must be at least 16 bytes") }
            keys.append(.secret(secret))
        }
        Self.readPreviousSecret(&reader, into: &keys)
        Self.readKeysFile(&reader, into: &keys)
        jwks = JWKSSettings(reading: &reader)
    }

    /// `jwt.previousSecret` keeps tokens signed with the old secret valid until a set time.
    private static func readPreviousSecret(_ reader: inout ConfigurationReader, into keys: inout [JWTKey]) {
        guard let previous = reader.string("jwt.previousSecret").nonEmpty else { return }
        guard previous.utf8.count >= 16 else {
            reader.problem("jwt.previousSecret", "must be at least 16 bytes")
            return
        }
        let until = reader.string("jwt.previousSecretValidUntil")
        guard let validUntil = Timestamp.seconds(from: until) else {
            reader.problem("jwt.previousSecretValidUntil", "set when the previous secret stops being accepted (RFC 3339, e.g. 2026-12-31T00:00:00Z, or seconds since 1970)")
            return
        }
        keys.append(.secret(previous, validUntil: validUntil))
    }

    /// `jwt.keysFile`: a JWKS document on disk, for several static keys chosen by `kid`
    /// (shared secrets allowed as `oct` keys).
    private static func readKeysFile(_ reader: inout ConfigurationReader, into keys: inout [JWTKey]) {
        guard let path = reader.string("jwt.keysFile").nonEmpty else { return }
        guard let data = FileManager.default.contents(atPath: path) else {
            reader.problem("jwt.keysFile", "cannot read the file")
            return
        }
        guard let document = try? JSONParser.parse([UInt8](data)) else {
            reader.problem("jwt.keysFile", "is not JSON (expected a JWKS document: {\"keys\":[…]})")
            return
        }
        do {
            let set = try JWKSet(parsing: document, allowSecrets: true)
            if let skipped = set.skipped.first {
                reader.problem("jwt.keysFile", "a key cannot be used: \(skipped)")
            } else if set.keys.isEmpty {
                reader.problem("jwt.keysFile", "holds no keys")
            } else if set.keys.contains(where: { $0.kid == nil }) {
                reader.problem("jwt.keysFile", "every key needs a kid")
            }
            keys += set.keys
        } catch {
            reader.problem("jwt.keysFile", error.message)
        }
    }
}

/// `jwt.jwks*`: where the identity provider publishes its keys and how often they are read.
struct JWKSSettings: Sendable {
    var url: URL
    var caFile: String?
    var refreshSeconds: Int
    /// At most one fetch per this interval is caused by tokens naming an unknown `kid`.
    var minRefreshSeconds: Int
    /// `/health` turns degraded when the last good document is older than this.
    var maxAgeSeconds: Int
    var timeoutSeconds: Int

    init?(reading reader: inout ConfigurationReader) {
        refreshSeconds = reader.int("jwt.jwksRefreshSeconds", in: 10...86_400)
        minRefreshSeconds = reader.int("jwt.jwksMinRefreshSeconds", in: 1...3600)
        maxAgeSeconds = reader.int("jwt.jwksMaxAgeSeconds", in: 60...604_800)
        timeoutSeconds = reader.int("jwt.jwksTimeoutSeconds", in: 1...60)
        caFile = reader.readableFile("jwt.jwksCaFile")
        guard let url = reader.httpURL("jwt.jwksUrl") else { return nil }
        // Keys fetched in the clear can be swapped by anyone on the path, and with them any
        // token forged: plain http is for a key server on this host only.
        if url.scheme?.lowercased() == "http", !Self.isLoopback(url.host ?? "") {
            reader.problem("jwt.jwksUrl", "use https:// (plain http is accepted for localhost only: keys fetched in the clear can be replaced on the way)")
        }
        self.url = url
    }
}

extension JWKSSettings {
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }
}

/// RFC 3339 times or plain seconds since 1970, as configuration values.
enum Timestamp {
    static func seconds(from text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return nil }
        if let seconds = Double(trimmed), seconds.isFinite, seconds > 0 { return seconds }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: trimmed) { return date.timeIntervalSince1970 }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: trimmed)?.timeIntervalSince1970
    }
}
