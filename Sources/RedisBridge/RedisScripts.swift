import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A Lua script, run by EVALSHA once loaded on a connection.
public struct RedisScript: Sendable, Hashable {
    public let name: String
    public let source: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }
}

/// A connection with its scripts loaded: the one place that runs EVALSHA. A server that lost the
/// scripts (restarted, SCRIPT FLUSH) answers NOSCRIPT: the connection is closed so its link
/// reconnects and loads them again, and the caller gets `RedisError` of kind `.noScript`.
public struct ScriptedConnection: Sendable {
    public let redis: RedisConnection
    private let shas: [RedisScript: String]

    init(redis: RedisConnection, shas: [RedisScript: String]) {
        self.redis = redis
        self.shas = shas
    }

    /// EVALSHA of `script` with `keys` and `arguments`; callable from any thread.
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) -> EventLoopFuture<RedisReply> {
        guard let sha = shas[script] else {
            return redis.eventLoop.makeFailedFuture(RedisError(.protocolError, "script \(script.name) was not loaded on this link"))
        }
        let redis = redis
        return redis.eventLoop.flatSubmit {
            redis.send(["EVALSHA", sha, String(keys.count)] + keys + arguments).flatMapErrorThrowing { error in
                if let error = error as? RedisError, error.kind == .noScript { redis.close() }
                throw error
            }
        }
    }
}

/// A reconnecting link (``RedisLink``) whose sessions start by loading `scripts`: while it is
/// up, ``connection`` is the loaded connection; while it is down, nil (callers decide locally).
public final class ScriptLink: Sendable {
    public let scripts: [RedisScript]
    private let current = NIOLockedValueBox<ScriptedConnection?>(nil)

    public init(scripts: [RedisScript]) {
        self.scripts = scripts
    }

    public var connection: ScriptedConnection? { current.withLockedValue { $0 } }

    /// The link; `whileUp` runs once per connection after the scripts are loaded, and the
    /// session lasts until the connection closes or `whileUp`'s future completes (renewal loops).
    public func link(
        name: String, address: RedisAddress, eventLoop: any EventLoop, status: RedisStatus, logger: Logger,
        whileUp: (@Sendable (ScriptedConnection) -> Void)? = nil
    ) -> RedisLink {
        RedisLink(name: name, address: address, eventLoop: eventLoop, status: status, logger: logger) { [self] redis in
            redis.loadScripts(scripts.map(\.source)).flatMap { [self] shas in
                let loaded = ScriptedConnection(redis: redis, shas: Dictionary(uniqueKeysWithValues: zip(scripts, shas)))
                current.withLockedValue { $0 = loaded }
                whileUp?(loaded)
                return redis.closeFuture
            }.always { [self] _ in
                current.withLockedValue { if $0?.redis === redis { $0 = nil } }
            }
        }
    }
}
