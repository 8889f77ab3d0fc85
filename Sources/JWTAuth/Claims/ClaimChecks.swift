import GatewayJSON

/// The claim rules of SPEC §2, applied to verified claims at an injected time.
public struct ClaimChecks: Sendable {
    public var issuer: String?
    public var audience: String?
    public var leewaySeconds: Double

    public init(issuer: String? = nil, audience: String? = nil, leewaySeconds: Double = 5) {
        self.issuer = issuer
        self.audience = audience
        self.leewaySeconds = leewaySeconds
    }

    public func principal(from claims: JSONValue, now: Double) throws(JWTAuthError) -> Principal {
        guard claims.isObject else { throw .unauthorized("The token carries no claims.") }
        guard let exp = number(claims["exp"]) else { throw .unauthorized("The token has no expiry (exp).") }
        // Timers and replies turn exp into milliseconds: a far-future exp must not overflow them.
        guard exp.isFinite, exp <= Self.latestExpiry else {
            throw .unauthorized("The token's exp is out of range (after 9999-12-31).")
        }
        if now > exp + leewaySeconds { throw JWTAuthError(.tokenExpired, "The token has expired.") }
        if let nbfValue = claims["nbf"] {
            guard let nbf = number(nbfValue), nbf.isFinite else { throw .unauthorized("The token's nbf is not a number.") }
            if now + leewaySeconds < nbf { throw .unauthorized("The token is not valid yet (nbf).") }
        }
        if let issuer {
            guard claims["iss"]?.stringValue == issuer else { throw .unauthorized("The token was issued by someone else (iss).") }
        }
        if let audience {
            let accepted: Bool
            switch claims["aud"] {
            case .string(let value)?: accepted = value == audience
            case .array(let values)?: accepted = values.contains(.string(audience))
            default: accepted = false
            }
            guard accepted else { throw .unauthorized("The token is meant for another audience (aud).") }
        }
        guard let userId = claims["userId"]?.stringValue ?? claims["sub"]?.stringValue, !userId.isEmpty else {
            throw .unauthorized("The token names no user (userId or sub).")
        }
        if let problem = UserIDRule.problem(with: userId) { throw .unauthorized(problem) }
        let role = try choice(claims["role"], default: Principal.Role.user, claim: "role")
        let tier = try choice(claims["tier"], default: Principal.Tier.free, claim: "tier")
        return Principal(userId: userId, role: role, tier: tier, expiresAt: exp)
    }

    /// An optional string claim that must be one of `Value`'s cases.
    private func choice<Value: RawRepresentable & CaseIterable>(_ value: JSONValue?, default fallback: Value, claim: String)
        throws(JWTAuthError) -> Value where Value.RawValue == String
    {
        guard let value else { return fallback }
        guard let name = value.stringValue, let parsed = Value(rawValue: name) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
            throw .unauthorized("The token's \(claim) is not one of \(allowed).")
        }
        return parsed
    }

    /// 9999-12-31T23:59:59Z, the last instant RFC 3339 can write.
    public static let latestExpiry: Double = 253_402_300_799

    private func number(_ value: JSONValue?) -> Double? {
        if case .number(let text)? = value { return Double(text) }
        return nil
    }
}
