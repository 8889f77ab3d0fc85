import GatewayJSON

/// A JWKS document (RFC 7517) read into verification keys. Keys the gateway cannot use
/// (encryption keys, private members, unknown types, malformed numbers) are skipped with the
/// reason, so one odd key never costs the others.
public struct JWKSet: Sendable {
    public static let maximumKeys = 100

    public let keys: [JWTKey]
    /// Why each skipped key was skipped, for the log (`kid` or position, then the reason).
    public let skipped: [String]

    /// `allowSecrets`: read `oct` keys (shared secrets) too; only for a local keys file, never
    /// for a document fetched over the network.
    public init(parsing document: JSONValue, allowSecrets: Bool = false) throws(JWTAuthError) {
        guard case .array(let entries)? = document["keys"] else {
            throw JWTAuthError(.invalidConfiguration, "the JWKS document has no \"keys\" array")
        }
        guard entries.count <= Self.maximumKeys else {
            throw JWTAuthError(.invalidConfiguration, "the JWKS document has \(entries.count) keys; at most \(Self.maximumKeys) are read")
        }
        var keys: [JWTKey] = []
        var skipped: [String] = []
        for (index, entry) in entries.enumerated() {
            let label = entry["kid"]?.stringValue.map { "kid \($0)" } ?? "key #\(index)"
            do {
                if let key = try JWK.key(from: entry, allowSecrets: allowSecrets) { keys.append(key) } else { skipped.append("\(label): not a signing key") }
            } catch {
                skipped.append("\(label): \(error.message)")
            }
        }
        self.keys = keys
        self.skipped = skipped
    }
}

/// One JSON Web Key → a verification key, converted by OpenSSL.
enum JWK {
    /// nil for keys that are not for signatures (`use: enc`, `key_ops` without `verify`).
    static func key(from jwk: JSONValue, allowSecrets: Bool) throws(JWTAuthError) -> JWTKey? {
        guard jwk.isObject else { throw invalid("not a JSON object") }
        if let use = jwk["use"]?.stringValue, use != "sig" { return nil }
        if case .array(let operations)? = jwk["key_ops"], !operations.contains(.string("verify")) { return nil }
        let kid = jwk["kid"]?.stringValue
        if let kid, let problem = KeyID.problem(with: kid) { throw invalid(problem) }
        let named: JWTAlgorithm?
        if let alg = jwk["alg"]?.stringValue {
            guard let algorithm = JWTAlgorithm(rawValue: alg) else { throw invalid("its alg \(alg) is not one the gateway verifies") }
            named = algorithm
        } else {
            named = nil
        }
        if jwk["kty"]?.stringValue == "oct" {
            guard allowSecrets else { throw invalid("shared secrets are not read from a JWKS document fetched over the network") }
            let secret = try bytes(jwk, "k")
            guard secret.count >= 16 else { throw invalid("its secret (k) is shorter than 16 bytes") }
            let algorithm = named ?? .hs256
            guard algorithm.isSymmetric else { throw invalid("a shared secret cannot verify \(algorithm.rawValue)") }
            return JWTKey(algorithm: algorithm, material: secret, kid: kid)
        }
        guard jwk["d"] == nil else { throw invalid("it holds a private key (d); publish public keys only") }
        let pem: String
        let kind: OpenSSLKeys.Kind
        do {
            switch jwk["kty"]?.stringValue {
            case "RSA":
                pem = try OpenSSLKeys.rsaPEM(modulus: try bytes(jwk, "n"), exponent: try bytes(jwk, "e"))
                kind = .rsa
            case "EC":
                let curve = jwk["crv"]?.stringValue ?? ""
                pem = try OpenSSLKeys.ecPEM(curve: curve, x: try bytes(jwk, "x"), y: try bytes(jwk, "y"))
                kind = .ec(curve: curve)
            case "OKP":
                guard jwk["crv"]?.stringValue == "Ed25519" else { throw invalid("its OKP curve is not Ed25519") }
                let raw = try bytes(jwk, "x")
                pem = try OpenSSLKeys.ed25519PEM(raw: raw)
                kind = .ed25519(raw: raw)
            case let other?:
                throw invalid("its kty \(other) is not RSA, EC or OKP")
            case nil:
                throw invalid("it has no kty")
            }
        } catch let failure as OpenSSLKeys.Failure {
            throw invalid(failure.reason)
        } catch let error as JWTAuthError {
            throw error
        } catch {
            throw invalid("\(error)")
        }
        do {
            return try JWTKey.make(kind: kind, pem: pem, kid: kid, algorithm: named)
        } catch {
            throw invalid(error.message)
        }
    }

    private static func bytes(_ jwk: JSONValue, _ member: String) throws(JWTAuthError) -> [UInt8] {
        guard let text = jwk[member]?.stringValue, let decoded = Base64URL.decode(Substring(text)), !decoded.isEmpty else {
            throw invalid("its \(member) is not base64url")
        }
        return decoded
    }

    private static func invalid(_ reason: String) -> JWTAuthError { JWTAuthError(.invalidConfiguration, reason) }
}

/// Which `kid` values are read, from a JWKS document, the configuration or a token header.
public enum KeyID {
    public static let maximumBytes = 256

    public static func problem(with kid: String) -> String? {
        if kid.isEmpty { return "its kid is empty" }
        if kid.utf8.count > maximumBytes { return "its kid is longer than \(maximumBytes) bytes" }
        if kid.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return "its kid contains control characters" }
        return nil
    }
}
