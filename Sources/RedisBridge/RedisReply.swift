/// One RESP2 reply, copied out of hiredis's reply object.
public enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    public var text: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    public var elements: [RedisReply]? {
        if case .array(let items) = self { return items }
        return nil
    }
}

/// A Redis failure, worded for the operator's log.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// `overloaded`: refused before sending, because too many commands already wait for
    /// replies on this connection (``RedisConnection/maximumPending``). `noScript`: an EVALSHA
    /// whose script the server does not have (restarted, or SCRIPT FLUSH).
    public enum Kind: Sendable { case protocolError, server, connection, overloaded, noScript }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The error an error reply stands for (`NOSCRIPT …` is typed: scripts must be loaded again).
    static func reply(_ message: String) -> RedisError {
        RedisError(message.hasPrefix("NOSCRIPT") ? .noScript : .server, message)
    }
}
