/// Who a verified token speaks for (SPEC §2 claims).
public struct Principal: Sendable, Hashable {
    public enum Role: String, Sendable, CaseIterable { case user, admin, service }
    public enum Tier: String, Sendable, CaseIterable { case free, premium }

    public let userId: String
    public let role: Role
    public let tier: Tier
    /// `exp`, seconds since the epoch.
    public let expiresAt: Double

    public init(userId: String, role: Role, tier: Tier, expiresAt: Double) {
        self.userId = userId
        self.role = role
        self.tier = tier
        self.expiresAt = expiresAt
    }
}
