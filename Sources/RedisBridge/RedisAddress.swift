import NIOSSL

/// Where Redis is: `redis://[user:password@]host[:port][/db]` (the form of REDIS_URL), or
/// `rediss://…` for TLS.
public struct RedisAddress: Sendable, Equatable {
    public let host: String
    public let port: Int
    public let database: Int
    public let username: String?
    public let password: String?
    /// `rediss://`: connections speak TLS (with ``tls``, or the system's trust store).
    public let usesTLS: Bool
    /// The TLS context every connection to this address uses (CA, client certificate).
    public var tls: RedisTLSContext?
    /// Commands that may wait for replies on one connection (`redis.maxPendingCommands`).
    public var maximumPending = RedisConnection.defaultMaximumPending

    public init(host: String, port: Int, database: Int, username: String?, password: String?, usesTLS: Bool = false) {
        self.usesTLS = usesTLS
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
    }

    public init?(url: String) {
        let scheme = url.hasPrefix("rediss://") ? "rediss://" : "redis://"
        guard url.hasPrefix(scheme) else { return nil }
        usesTLS = scheme == "rediss://"
        var rest = Substring(url.dropFirst(scheme.count))
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : String(user)
                password = String(credentials[credentials.index(after: colon)...])
            } else {
                password = String(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else { return nil }
                database = number
            }
        }
        var port = 6379
        var host = rest
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else { return nil }
            port = number
            host = rest[..<colon]
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.host = String(host)
        self.port = port
        self.database = database
        self.username = username
        self.password = password
    }

    /// For logs: never the password.
    public var description: String { "\(usesTLS ? "rediss" : "redis")://\(host):\(port)/\(database)" }
}

/// A TLS context shared by every connection to one Redis (compared by identity).
public final class RedisTLSContext: Sendable, Equatable {
    public let context: NIOSSLContext

    public init(_ context: NIOSSLContext) {
        self.context = context
    }

    public static func == (lhs: RedisTLSContext, rhs: RedisTLSContext) -> Bool { lhs === rhs }
}
