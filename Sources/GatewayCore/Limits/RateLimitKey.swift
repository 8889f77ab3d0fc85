/// Whose token bucket an event is taken from (SPEC §4): per namespace, the user when the socket
/// is authenticated, else the connection. Typed, so a store never has to guess from a string
/// whether a bucket is a user's (shared across instances) or a connection's (local only).
public struct RateLimitKey: Hashable, Sendable {
    public enum Owner: Hashable, Sendable {
        case user(String)
        case connection(String)
    }

    public let namespace: NamespacePath
    public let owner: Owner

    public init(namespace: NamespacePath, owner: Owner) {
        self.namespace = namespace
        self.owner = owner
    }

    /// A user's bucket is shared by all instances in cluster mode; a connection lives on one.
    public var isShared: Bool {
        if case .user = owner { return true }
        return false
    }

    /// The key in a shared store: `{namespace}|user:{id}`. The namespace is one the gateway
    /// serves (no `|`), and the id comes last, so distinct keys never share a name.
    public var storageName: String {
        switch owner {
        case .user(let id): namespace.value + "|user:" + id
        case .connection(let id): namespace.value + "|conn:" + id
        }
    }
}
