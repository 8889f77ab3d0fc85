/// Why a text is not the JSON value it should be; `detail` says what and where, for logs.
public struct JSONError: Error, Hashable, Sendable, CustomStringConvertible {
    public let detail: String

    public init(_ detail: String) {
        self.detail = detail
    }

    public var description: String { "invalid_json: \(detail)" }

    /// Any two are equal: tests compare kinds, not wording.
    public static func == (lhs: JSONError, rhs: JSONError) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}
}
