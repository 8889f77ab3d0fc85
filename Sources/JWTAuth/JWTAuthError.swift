/// Why a token was refused. `code` is what the client sees (SPEC §2); `message` is written for
/// the user and never contains the token.
public struct JWTAuthError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unauthorized = "UNAUTHORIZED"
        case tokenExpired = "TOKEN_EXPIRED"
        case invalidConfiguration = "INVALID_CONFIGURATION"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func == (lhs: JWTAuthError, rhs: JWTAuthError) -> Bool { lhs.code == rhs.code && lhs.message == rhs.message }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }

    static func unauthorized(_ message: String) -> JWTAuthError { JWTAuthError(.unauthorized, message) }
}
