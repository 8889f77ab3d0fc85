import GatewayJSON

/// Verifies gateway tokens: size cap, the key chosen by the header's `kid` and `alg` against
/// the configured keys, signature (libjwt; OpenSSL for EdDSA), then the claim rules at the
/// given time.
public struct JWTAuthenticator: Sendable {
    public static let maximumTokenBytes = 8 * 1024

    public let keys: KeyStore
    public let checks: ClaimChecks

    public init(keys: KeyStore, checks: ClaimChecks = ClaimChecks()) {
        self.keys = keys
        self.checks = checks
    }

    /// One configured key (a secret or a public key file).
    public init(key: JWTKey, checks: ClaimChecks = ClaimChecks()) {
        self.init(keys: KeyStore(KeyRing(configured: [key])), checks: checks)
    }

    public func verify(_ token: String, now: Double) throws(JWTAuthError) -> Principal {
        guard token.utf8.count <= Self.maximumTokenBytes else {
            throw .unauthorized("The token is larger than 8 KiB.")
        }
        let header = try TokenHeader(token: token)
        let ring = keys.current
        // The key owns the algorithm: `none`, another algorithm, and HS256 "signed" with a
        // public key are all refused here, before libjwt sees the token.
        let candidates: [JWTKey]
        switch ring.select(algorithm: header.algorithm, kid: header.kid, now: now) {
        case .keys(let found):
            candidates = found
        case .unknownKid:
            keys.reportUnknownKid(header.kid ?? "")
            if ring.all.isEmpty {
                throw .unauthorized("The gateway has no verification keys yet (its key server has not answered); try again shortly.")
            }
            throw .unauthorized("The token is signed with a key (kid) this gateway does not know.")
        case .wrongAlgorithm:
            let accepted = ring.algorithms.map(\.rawValue)
            if accepted.isEmpty {
                throw .unauthorized("The gateway has no verification keys yet (its key server has not answered); try again shortly.")
            }
            let named = header.algorithm.isEmpty ? "no algorithm" : header.algorithm
            throw .unauthorized("The token is signed with \(named); this gateway accepts \(accepted.joined(separator: ", ")).")
        }
        let claimsJSON = header.algorithm == JWTAlgorithm.edDSA.rawValue
            ? Self.verifiedEdDSAClaims(header, keys: candidates)
            : candidates.lazy.compactMap { try? LibJWT.verifiedClaims(token: token, key: $0.material) }.first.map { Array($0.utf8) }
        guard let claimsJSON else { throw .unauthorized("The token signature is not valid.") }
        guard let claims = try? JSONParser.parse(claimsJSON) else {
            throw .unauthorized("The token claims are not valid JSON.")
        }
        return try checks.principal(from: claims, now: now)
    }

    /// The claims' JSON when one of `keys` made the Ed25519 signature (OpenSSL: libjwt 1.10 has
    /// no EdDSA), else nil. The token is decoded once, whatever the number of keys.
    private static func verifiedEdDSAClaims(_ header: TokenHeader, keys: [JWTKey]) -> [UInt8]? {
        guard let signature = Base64URL.decode(header.signature), let claims = Base64URL.decode(header.payload) else { return nil }
        let signingInput = Array(header.signingInput.utf8)
        return keys.contains { OpenSSLKeys.verifyEd25519(publicKey: $0.material, message: signingInput, signature: signature) } ? claims : nil
    }
}

/// Mints tokens with a shared secret (`gateway token`, development mode).
public struct TokenMinter: Sendable {
    let secret: [UInt8]

    public init(secret: String) {
        self.secret = Array(secret.utf8)
    }

    public func mint(subject: String, role: Principal.Role = .user, tier: Principal.Tier = .free, now: Double, ttlSeconds: Double,
                     issuer: String? = nil, audience: String? = nil) throws -> String {
        var members: [JSONMember] = [
            JSONMember("sub", .string(subject)),
            JSONMember("role", .string(role.rawValue)),
            JSONMember("tier", .string(tier.rawValue)),
            JSONMember("iat", .int(Int(now))),
            JSONMember("exp", .int(Int(now + ttlSeconds))),
        ]
        if let issuer { members.append(JSONMember("iss", .string(issuer))) }
        if let audience { members.append(JSONMember("aud", .string(audience))) }
        return try LibJWT.sign(claimsJSON: JSONSerializer.serialize(.object(members)), algorithm: .hs256, key: secret)
    }
}
