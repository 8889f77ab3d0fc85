/// A Socket.IO namespace's path (`/`, `/prices`). A type of its own so a namespace is never
/// confused with a room, an event or a user id where they travel side by side.
public struct NamespacePath: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The path as it is on the wire.
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public var description: String { value }

    /// The main namespace `/`.
    public static let root: NamespacePath = "/"
}
