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
