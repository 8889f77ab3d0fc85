/// A room of one namespace as the broadcast index knows it. The name is an opaque identity:
/// the namespaces build it from their typed rooms and never read it back; the empty name is
/// every socket of the namespace.
public struct RoomKey: Hashable, Sendable {
    public let namespace: NamespacePath
    public let name: String

    public init(namespace: NamespacePath, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Every socket of `namespace`.
    public static func everyone(in namespace: NamespacePath) -> RoomKey { RoomKey(namespace: namespace, name: "") }

    public var isWholeNamespace: Bool { name.isEmpty }
}
