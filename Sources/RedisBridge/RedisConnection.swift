import DequeModule
import GatewayTLS
import NIOCore
import NIOPosix

/// One Redis connection on an event loop: commands are pipelined and answered in order;
/// after SUBSCRIBE, published messages go to the subscriber. Confined to its loop (unchecked
/// Sendable so futures can carry it there).
///
/// Bounded: at most ``maximumPending`` commands wait for replies (more are refused at once with
/// an `overloaded` error, so a slow Redis cannot make the gateway queue without end), and a
/// connection whose oldest command has waited past the watchdog's timeout is closed even while
/// Redis keeps answering others (slow, not dead), so the link reconnects.
public final class RedisConnection: @unchecked Sendable {
    public let eventLoop: any EventLoop
    /// Commands that may wait for replies at once (`redis.maxPendingCommands`).
    public static let defaultMaximumPending = 10_000
    public var maximumPending = RedisConnection.defaultMaximumPending
    /// Called when a command is refused for `maximumPending` (on the connection's loop).
    var onOverload: (() -> Void)?
    private var channel: (any Channel)?
    private var pending = Deque<(promise: EventLoopPromise<RedisReply>, sentAt: NIODeadline)>()
    private var onMessage: ((String, [UInt8]) -> Void)?
    private var lastReply = NIODeadline.now()
    private var watchdog: RepeatedTask?

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Connects, authenticates and selects the database.
    public static func connect(to address: RedisAddress, on eventLoop: any EventLoop, timeout: TimeAmount = .seconds(2)) -> EventLoopFuture<RedisConnection> {
        let connection = RedisConnection(eventLoop: eventLoop)
        connection.maximumPending = address.maximumPending
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if address.usesTLS {
                        // rediss://: the certificate must name the host (or its address); without a
                        // configured context, the system's trust store decides.
                        let context = try address.tls?.context ?? ClientTLS().makeContext()
                        try channel.pipeline.syncOperations.addHandler(ClientTLS.handler(context: context, host: address.host))
                    }
                    try channel.pipeline.syncOperations.addHandler(RedisReplyHandler(connection: connection))
                }
            }
            .connect(host: address.host, port: address.port)
            .flatMap { channel in
                connection.channel = channel
                connection.startWatchdog(timeout: .nanoseconds(timeout.nanoseconds * 5))
                var setup: [[String]] = []
                if let password = address.password {
                    setup.append(address.username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
                }
                if address.database != 0 { setup.append(["SELECT", String(address.database)]) }
                // A connection counts as made once Redis has answered: a TLS handshake that fails
                // (an untrusted certificate, a missing client certificate) fails here, not later.
                setup.append(["PING"])
                let steps = setup.map { connection.send($0).map { _ in } }
                return EventLoopFuture.andAllSucceed(steps, on: eventLoop).map { connection }
                    .flatMapError { error in
                        connection.close()
                        return eventLoop.makeFailedFuture(error)
                    }
            }
    }

    /// Sends one command; an error reply fails the future.
    public func send(_ arguments: [String]) -> EventLoopFuture<RedisReply> {
        eventLoop.preconditionInEventLoop()
        let promise = eventLoop.makePromise(of: RedisReply.self)
        guard let channel, channel.isActive else {
            promise.fail(RedisError(.connection, "the Redis connection is closed"))
            return promise.futureResult
        }
        guard pending.count < maximumPending else {
            onOverload?()
            promise.fail(RedisError(.overloaded, "\(pending.count) Redis commands are already waiting for replies"))
            return promise.futureResult
        }
        pending.append((promise, .now()))
        var buffer = channel.allocator.buffer(capacity: 64)
        buffer.writeBytes(RedisWire.format(arguments))
        channel.writeAndFlush(buffer, promise: nil)
        return promise.futureResult
    }

    /// SCRIPT LOAD for each script, in order; the future holds their SHAs for EVALSHA.
    public func loadScripts(_ scripts: [String]) -> EventLoopFuture<[String]> {
        let loads = scripts.map { script in
            send(["SCRIPT", "LOAD", script]).flatMapThrowing { reply -> String in
                guard let sha = reply.text else { throw RedisError(.protocolError, "SCRIPT LOAD gave no SHA") }
                return sha
            }
        }
        return EventLoopFuture.whenAllSucceed(loads, on: eventLoop)
    }

    /// SUBSCRIBE: `onMessage(channel, payload)` for every message published there.
    public func subscribe(_ channelName: String, onMessage: @escaping (String, [UInt8]) -> Void) -> EventLoopFuture<Void> {
        self.onMessage = onMessage
        return send(["SUBSCRIBE", channelName]).map { _ in }
    }

    /// Completes when the connection is gone, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> {
        channel?.closeFuture ?? eventLoop.makeSucceededVoidFuture()
    }

    public func close() {
        watchdog?.cancel()
        channel?.close(promise: nil)
    }

    // MARK: From the handler

    func received(_ reply: RedisReply) {
        lastReply = .now()
        if let onMessage, case .array(let items) = reply, items.count == 3, items[0].text == "message",
           let name = items[1].text, case .string(let payload) = items[2] {
            onMessage(name, payload)
            return
        }
        guard let promise = pending.popFirst()?.promise else { return }
        if case .error(let message) = reply {
            promise.fail(RedisError.reply(message))
        } else {
            promise.succeed(reply)
        }
    }

    func closed(_ error: RedisError) {
        watchdog?.cancel()
        while let waiting = pending.popFirst() { waiting.promise.fail(error) }
    }

    /// A subscriber pings while idle; any connection that leaves a command unanswered for
    /// `timeout` is closed (a dead server, a half-open socket, or one so slow that its oldest
    /// command is still waiting), so the link reconnects.
    private func startWatchdog(timeout: TimeAmount) {
        let half = TimeAmount.nanoseconds(timeout.nanoseconds / 2)
        watchdog = eventLoop.scheduleRepeatedTask(initialDelay: half, delay: half) { [self] _ in
            let now = NIODeadline.now()
            let silent = now - lastReply
            if let oldest = pending.first, now - oldest.sentAt > timeout {
                close()
            } else if onMessage != nil && pending.isEmpty && silent > half {
                _ = send(["PING"])
            }
        }
    }
}

/// Feeds bytes from the socket to hiredis's reader and hands whole replies to the connection.
final class RedisReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let connection: RedisConnection
    private let reader = RedisReplyReader()

    init(connection: RedisConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        var failure: RedisError?
        buffer.withUnsafeReadableBytes { bytes in
            do throws(RedisError) { try reader.feed(bytes) } catch { failure = error }
        }
        do throws(RedisError) {
            if let failure { throw failure }
            while let reply = try reader.next() { connection.received(reply) }
        } catch {
            connection.closed(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.closed(RedisError(.connection, "Redis closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Kept for the log: a TLS failure says why here and nowhere else.
        connection.closed(RedisError(.connection, "\(error)"))
        context.close(promise: nil)
    }
}
