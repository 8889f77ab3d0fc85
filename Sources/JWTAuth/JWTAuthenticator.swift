import GatewayJSON

/// Verifies gateway tokens: size cap, header algorithm against the configured key, signature
/// (libjwt), then the claim rules at the given time.
public struct JWTAuthenticator: Sendable {
    public static let maximumTokenBytes = 8 * 1024

    public let key: JWTKey
    public let checks: ClaimChecks

    public init(key: JWTKey, checks: ClaimChecks = ClaimChecks()) {
        self.key = key
        self.checks = checks
    }

    public func verify(_ token: String, now: Double) throws(JWTAuthError) -> Principal {
        guard token.utf8.count <= Self.maximumTokenBytes else {
            throw .unauthorized("The token is larger than 8 KiB.")
        }
        let header = try TokenHeader(token: token)
        // The key owns the algorithm: `none`, another algorithm, and HS256 "signed" with a
        // public key are all refused here, before libjwt sees the token.
        guard header.algorithm == key.algorithm.rawValue else {
            throw .unauthorized("The token is signed with \(header.algorithm.isEmpty ? "no algorithm" : header.algorithm); this gateway accepts \(key.algorithm.rawValue).")
        }
        let claimsJSON: String
        do {
            claimsJSON = try LibJWT.verifiedClaims(token: token, key: key.material)
        } catch {
            throw .unauthorized("The token signature is not valid.")
        }
        guard let claims = try? JSONParser.parse(claimsJSON) else {
            throw .unauthorized("The token claims are not valid JSON.")
        }
        return try checks.principal(from: claims, now: now)
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
