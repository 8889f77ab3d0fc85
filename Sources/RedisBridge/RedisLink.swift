import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Keeps one Redis session running: connects, runs `session` until the connection ends, and
/// reconnects after 50 ms × attempt (at most 2 s, SPEC §8), reporting up/down to `status`.
public final class RedisLink: Sendable {
    public typealias Session = @Sendable (RedisConnection) -> EventLoopFuture<Void>

    private let name: String
    private let address: RedisAddress
    private let eventLoop: any EventLoop
    private let status: RedisStatus
    private let logger: Logger
    private let session: Session
    private let current = NIOLockedValueBox<(stopped: Bool, connection: RedisConnection?)>((false, nil))

    public init(name: String, address: RedisAddress, eventLoop: any EventLoop, status: RedisStatus, logger: Logger, session: @escaping Session) {
        self.name = name
        self.address = address
        self.eventLoop = eventLoop
        self.status = status
        self.logger = logger
        self.session = session
        status.register(name)
    }

    public func start() {
        eventLoop.execute { self.connect(attempt: 0) }
    }

    public func stop() {
        let connection = current.withLockedValue { state -> RedisConnection? in
            state.stopped = true
            return state.connection
        }
        if let connection { connection.eventLoop.execute { connection.close() } }
    }

    private var isStopped: Bool { current.withLockedValue { $0.stopped } }

    private func connect(attempt: Int) {
        guard !isStopped else { return }
        RedisConnection.connect(to: address, on: eventLoop).whenComplete { result in
            switch result {
            case .success(let connection):
                guard !self.isStopped else { return connection.close() }
                self.current.withLockedValue { $0.connection = connection }
                connection.onOverload = { [status = self.status] in status.overloaded() }
                self.status.set(self.name, up: true)
                if attempt > 0 { self.logger.notice("Redis connection restored", metadata: ["redis.link": "\(self.name)"]) }
                let started = NIODeadline.now()
                let ended = self.session(connection)
                ended.whenFailure { error in
                    if let error = error as? RedisError, error.kind == .server {
                        self.logger.error("Redis refused a command; reconnecting", metadata: ["redis.link": "\(self.name)", "error": "\(error.message)"])
                    }
                }
                ended.whenComplete { _ in connection.close() }
                connection.closeFuture.whenComplete { _ in
                    self.current.withLockedValue { $0.connection = nil }
                    // A session that ends at once (a refused command, a server that closes on us)
                    // keeps backing off instead of reconnecting every 50 ms.
                    let healthy = NIODeadline.now() - started > .seconds(5)
                    self.lost(attempt: healthy ? 1 : attempt + 1, reason: "connection closed")
                }
            case .failure(let error):
                self.lost(attempt: attempt + 1, reason: "\(error)")
            }
        }
    }

    private func lost(attempt: Int, reason: String) {
        guard !isStopped else { return }
        status.set(name, up: false)
        if attempt == 1 {
            logger.warning("Redis unreachable; reconnecting", metadata: ["redis.link": "\(name)", "redis.address": "\(address.description)", "error": "\(reason)"])
        }
        let delay = TimeAmount.milliseconds(Int64(min(50 * attempt, 2000)))
        eventLoop.scheduleTask(in: delay) { self.connect(attempt: attempt) }
    }
}

/// A part that talks to Redis over links of its own (the cluster bus, shared rate limits,
/// leases, the user log): the service that runs Redis links starts and stops them with the
/// others, without knowing what each part is.
public protocol RedisLinkSource: Sendable {
    func links(address: RedisAddress, eventLoop: any EventLoop, status: RedisStatus) -> [RedisLink]
}
