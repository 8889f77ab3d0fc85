/// Decides presence changes from arrivals and departures on this instance: the local ledger on
/// one instance, the Redis one (Cluster) across instances. The tracker has already waited out
/// the grace period locally, so a departure the ledger hears is final for this instance. Each
/// change is answered to exactly one caller in the cluster, so each is announced once. A key is
/// a user (presence notices) or a symbol (`market.occupancy`).
public protocol PresenceLedger: Sendable {
    /// The key's first holder on this instance.
    func arrived(_ key: String, answer: @escaping @Sendable (PresenceChange?) -> Void)
    /// The key's last holder on this instance has been gone for the grace period.
    func left(_ key: String, answer: @escaping @Sendable (PresenceChange?) -> Void)
    /// Who is here (for ledgers that renew leases), and where changes the ledger finds by itself
    /// (a renewal after an outage, a sweep of lapsed leases) go. Called once, by the tracker.
    func follow(localKeys: @escaping @Sendable () -> [String], changes: @escaping @Sendable (String, PresenceChange) -> Void)
}
