import NIOConcurrencyHelpers
import NIOCore

/// The two ways the gateway reads Redis, as ``RedisLink`` sessions.
public enum RedisSessions {
    /// SUBSCRIBE `channel`; each message's payload goes to `onMessage` (on the link's loop).
    public static func subscribe(_ channel: String, onMessage: @escaping @Sendable ([UInt8]) -> Void) -> RedisLink.Session {
        { connection in
            connection.subscribe(channel) { _, payload in onMessage(payload) }.flatMap { connection.closeFuture }
        }
    }

    /// One stream entry: its id and its field/value pairs.
    public struct StreamEntry: Sendable {
        public let id: String
        public let fields: [String: String]
    }

    /// XREAD BLOCK on `key`, from where the stream ended when the gateway first connected; after
    /// a reconnect it goes on from the last entry it saw, so nothing added meanwhile is lost
    /// (as long as Redis kept it).
    public static func readStream(_ key: String, onEntries: @escaping @Sendable ([StreamEntry]) -> Void) -> RedisLink.Session {
        let position = NIOLockedValueBox<String?>(nil)
        return { connection in
            let start: EventLoopFuture<String>
            if let last = position.withLockedValue({ $0 }) {
                start = connection.eventLoop.makeSucceededFuture(last)
            } else {
                start = connection.send(["XREVRANGE", key, "+", "-", "COUNT", "1"]).map { reply in
                    reply.elements?.first?.elements?.first?.text ?? "0-0"
                }
            }
            return start.flatMap { id in
                position.withLockedValue { $0 = id }
                return readMore(connection, key: key, position: position, onEntries: onEntries)
            }
        }
    }

    /// Reads until the connection fails; each XREAD is issued when the previous one answered
    /// (a loop of callbacks, not a chain of futures that would grow for as long as it runs).
    private static func readMore(
        _ connection: RedisConnection, key: String, position: NIOLockedValueBox<String?>, onEntries: @escaping @Sendable ([StreamEntry]) -> Void
    ) -> EventLoopFuture<Void> {
        let done = connection.eventLoop.makePromise(of: Void.self)
        @Sendable func step() {
            let from = position.withLockedValue { $0 } ?? "0-0"
            connection.send(["XREAD", "COUNT", "512", "BLOCK", "1000", "STREAMS", key, from]).whenComplete { result in
                switch result {
                case .success(let reply):
                    // [[key, [[id, [field, value, …]], …]]] or nil on timeout.
                    let entries = (reply.elements?.first?.elements?.last?.elements ?? []).compactMap(entry)
                    if let last = entries.last {
                        position.withLockedValue { $0 = last.id }
                        onEntries(entries)
                    }
                    step()
                case .failure(let error):
                    done.fail(error)
                }
            }
        }
        step()
        return done.futureResult
    }

    private static func entry(_ reply: RedisReply) -> StreamEntry? {
        guard let parts = reply.elements, parts.count == 2, let id = parts[0].text, let flat = parts[1].elements else { return nil }
        var fields: [String: String] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].text, let value = flat[index + 1].text { fields[name] = value }
            index += 2
        }
        return StreamEntry(id: id, fields: fields)
    }
}
