/// A change of a user's presence across the cluster: their first `/user` socket anywhere
/// (`user.online`), or their last one gone for the grace period without coming back
/// (`user.offline`). `version` grows with every change of that user, so a receiver can drop an
/// older notice that arrives late.
public struct PresenceNotice: Sendable, Equatable {
    public enum Kind: String, Sendable { case online = "user.online", offline = "user.offline" }

    public let kind: Kind
    public let userId: String
    public let version: Int64
    /// Milliseconds since the epoch when the change was decided.
    public let decidedAtMs: Int64

    public init(kind: Kind, userId: String, version: Int64, decidedAtMs: Int64) {
        self.kind = kind
        self.userId = userId
        self.version = version
        self.decidedAtMs = decidedAtMs
    }
}

/// What a ledger answers: a change to announce, or nothing (already online, a blip that
/// recovered, still within the grace period).
public struct PresenceChange: Sendable, Equatable {
    public let online: Bool
    public let version: Int64

    public init(online: Bool, version: Int64) {
        self.online = online
        self.version = version
    }
}
