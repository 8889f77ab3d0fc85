/// Decides presence changes from the arrivals and departures of users on this instance: the
/// local ledger on one instance, the Redis one (GatewayCluster) across instances. Each change
/// is answered to exactly one caller in the cluster, so each is announced once.
public protocol PresenceLedger: Sendable {
    /// The user's first socket on this instance.
    func arrived(_ userId: String, answer: @escaping @Sendable (PresenceChange?) -> Void)
    /// The user's last socket on this instance closed.
    func left(_ userId: String, answer: @escaping @Sendable (PresenceChange?) -> Void)
    /// Asked after the grace period: offline when nobody came back anywhere.
    func settle(_ userId: String, answer: @escaping @Sendable (PresenceChange?) -> Void)
}
