import GatewayCore
import GatewayJSON
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisBridge

/// `/user` events and recovery sessions in Redis, so a client recovers on any instance
/// (SPEC §8). Each user has a stream `{prefix}user-log:{id}`, capped at
/// `recovery.maxEventsPerUser` and expiring when idle for the recovery window; an event is
/// added to it and published on the user's bus channel in one script, so the stream's order
/// is the order every instance delivers in, and the stream id is the event's offset
/// everywhere. A kept session is `{prefix}recovery:{pid}` for the window; one script takes
/// it (once, by its own user) and reads what it missed.
public final class RedisHistory: HistoryStore, RedisLinkSource {
    private let prefix: String
    /// Events kept per user, and how long a stream and a kept session live (milliseconds).
    private let maxEventsPerUser: Int
    private let windowMs: String
    private let broker: RedisBroker
    private let logger: Logger
    /// The command connection, with the append and begin scripts loaded.
    private let scripts = ScriptLink(scripts: [RedisHistory.appendScript, RedisHistory.beginScript])
    /// How long a recovery waits for its marker before it gives up (and the client starts fresh).
    private let markerTimeout: TimeAmount

    /// `window`: seconds a user's idle stream and a kept session live (`recovery.maxDisconnectionMs`).
    public init(prefix: String, maxEventsPerUser: Int, window: Double, broker: RedisBroker, logger: Logger, markerTimeout: TimeAmount = .seconds(2)) {
        self.prefix = prefix
        self.maxEventsPerUser = maxEventsPerUser
        windowMs = String(Int64(window * 1000))
        self.broker = broker
        self.markerTimeout = markerTimeout
        self.logger = logger
    }

    private func log(_ userId: String) -> String { prefix + "user-log:" + userId }
    private func trimmed(_ userId: String) -> String { prefix + "user-log-trimmed:" + userId }
    private func session(_ pid: String) -> String { prefix + "recovery:" + pid }
    /// The newest `{prefix}user-events` entry any instance has taken (each reads the stream).
    private var streamCursor: String { prefix + "user-events:cursor" }

    // MARK: Appending

    public func append(
        _ entry: (channel: String, event: String, payloadJSON: String), of userId: String,
        publishing body: JSONValue, on channel: BrokerChannel, sourceEntry: String?
    ) -> EventLoopFuture<HistoryAppend>? {
        guard let redis = scripts.connection else { return nil }
        let arguments = [
            entry.channel, entry.event, entry.payloadJSON, String(maxEventsPerUser), windowMs, broker.redisName(channel),
            String(broker.envelope(body).dropLast()),  // the script closes the object after adding the offset
            sourceEntry ?? "",
        ]
        return redis.evaluate(Self.appendScript, keys: [log(userId), trimmed(userId), streamCursor], arguments: arguments).map { reply in
            reply.text.flatMap(StreamOffset.pack).map { .published(offset: $0) } ?? .alreadyTaken
        }
    }

    /// The stream id the append script added to a published body, packed.
    public func offset(in body: JSONValue) -> UInt64? {
        body["offset"]?.stringValue.flatMap(StreamOffset.pack)
    }

    // MARK: Recovery

    /// The script takes the session and reads the stream, then publishes a marker on the
    /// user's bus channel. This instance follows that channel already, so when the marker comes
    /// back, every event the read covered has reached the hub through the bus too: the replay
    /// (the read) and the live stream (what the hub logs from then on) meet without a gap or an
    /// overlap. A marker that does not come back means the channel is not followed (the
    /// subscribing connection is down): the client starts fresh rather than risk a hole.
    public func begin(
        userId: String, pid: String?, offset: UInt64?, following channel: BrokerChannel, on eventLoop: any EventLoop
    ) -> EventLoopFuture<SharedRecoveryAnswer>? {
        guard let redis = scripts.connection else { return nil }
        var marker = ""
        var arrived: EventLoopFuture<Void>?
        if pid != nil {
            (marker, arrived) = broker.expectMarker(timeout: markerTimeout, on: eventLoop)
        }
        let arguments = [userId, offset.map(StreamOffset.unpack) ?? "", pid == nil ? "0" : "1", broker.redisName(channel), marker]
        let answered = redis.evaluate(Self.beginScript, keys: [session(pid ?? ""), log(userId), trimmed(userId)], arguments: arguments)
            .hop(to: eventLoop).map { [self] reply in answer(reply, pid: pid) }
            .recover { _ in .unavailable }  // gone mid-call, or the script was lost (the link loads it again)
        guard let arrived else { return answered }
        return answered.flatMap { answer in
            arrived.map { answer }.recover { _ in
                switch answer {
                case .recovered(let session, _, _): .failed(outcome: "unavailable", baseline: session.baseline)
                case .fresh(let baseline), .failed(_, let baseline): .failed(outcome: "unavailable", baseline: baseline)
                case .unavailable: .unavailable
                }
            }
        }
    }

    public func keep(_ kept: RecoverySession) -> EventLoopFuture<Bool>? {
        guard let redis = scripts.connection?.redis else { return nil }
        let record = JSONValue.object([
            "sid": .string(kept.sid), "userId": .string(kept.userId),
            "channels": .array(kept.channels.map { .string($0) }), "baseline": .string(StreamOffset.unpack(kept.baseline)),
            "disconnectedAt": .number(String(kept.disconnectedAt)),
        ])
        let arguments = ["SET", session(kept.pid), JSONSerializer.serialize(record), "PX", windowMs]
        return redis.eventLoop.flatSubmit { redis.send(arguments) }.map { _ in true }.recover { _ in false }
    }

    /// The begin script's reply: `[outcome, lastId]`, and for `recovered` also the session's
    /// JSON, the offset replayed after and the stream's entries after it.
    private func answer(_ reply: RedisReply, pid: String?) -> SharedRecoveryAnswer {
        guard let items = reply.elements, items.count >= 2, let outcome = items[0].text,
            let baseline = items[1].text.flatMap(StreamOffset.pack)
        else { return .unavailable }
        switch outcome {
        case "fresh":
            return .fresh(baseline: baseline)
        case "recovered":
            guard let pid, items.count == 5, let text = items[2].text, let record = try? JSONParser.parse(Array(text.utf8)),
                let sid = record["sid"]?.stringValue, let userId = record["userId"]?.stringValue,
                let channels = record["channels"]?.arrayValue?.compactMap(\.stringValue),
                let sessionBaseline = record["baseline"]?.stringValue.flatMap(StreamOffset.pack),
                let after = items[3].text.flatMap(StreamOffset.pack), let entries = items[4].elements
            else { return .failed(outcome: "unknown_session", baseline: baseline) }
            let kept = RecoverySession(
                pid: pid, sid: sid, userId: userId, channels: channels, baseline: sessionBaseline,
                disconnectedAt: Self.number(record["disconnectedAt"]) ?? 0
            )
            return .recovered(kept, after: after, missed: entries.compactMap(Self.entry))
        default:
            return .failed(outcome: outcome, baseline: baseline)
        }
    }

    private static func number(_ value: JSONValue?) -> Double? {
        guard case .number(let text)? = value else { return nil }
        return Double(text)
    }

    /// One XRANGE entry: `[id, [c, channel, e, event, d, data]]`.
    private static func entry(_ reply: RedisReply) -> UserEventEntry? {
        guard let parts = reply.elements, parts.count == 2, let id = parts[0].text.flatMap(StreamOffset.pack),
            let fields = parts[1].elements?.compactMap(\.text), fields.count % 2 == 0
        else { return nil }
        var values: [String: String] = [:]
        for index in stride(from: 0, to: fields.count, by: 2) { values[fields[index]] = fields[index + 1] }
        guard let channel = values["c"], let event = values["e"], let data = values["d"] else { return nil }
        return UserEventEntry(offset: id, channel: channel, event: event, payloadJSON: data, at: 0)
    }

    // MARK: Redis

    /// The connection events are appended and sessions taken on, run with the other links.
    public func links(address: RedisAddress, eventLoop: any EventLoop, status: RedisStatus) -> [RedisLink] {
        [scripts.link(name: "user-log", address: address, eventLoop: eventLoop, status: status, logger: logger)]
    }

    /// `a > b` for stream ids (`ms-seq`; numbers, not text, are compared).
    private static let newer = """
        local function newer(a, b)
          local am, as = string.match(a, '^(%d+)-(%d+)$')
          local bm, bs = string.match(b, '^(%d+)-(%d+)$')
          am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
          return am > bm or (am == bm and as > bs)
        end
        """

    /// KEYS: the user's stream, its trimmed-through key, the user-events cursor. ARGV: channel,
    /// event, data, cap, window ms, bus channel, bus message without its closing brace, source
    /// entry id or ''. Returns the new id, or nil when the source entry was taken already.
    static let appendScript = RedisScript(name: "user-log-append", source: newer + "\n" + """
        if ARGV[8] ~= '' then
          local cursor = redis.call('GET', KEYS[3])
          if cursor and not newer(ARGV[8], cursor) then return false end
          redis.call('SET', KEYS[3], ARGV[8])
        end
        local cap = tonumber(ARGV[4])
        local length = redis.call('XLEN', KEYS[1])
        if length >= cap then
          -- What the cap pushes out is remembered, so a recovery that needs it is refused, not given a hole.
          local gone = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', length - cap + 1)
          redis.call('SET', KEYS[2], gone[#gone][1], 'PX', ARGV[5])
        end
        local id = redis.call('XADD', KEYS[1], 'MAXLEN', cap, '*', 'c', ARGV[1], 'e', ARGV[2], 'd', ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        redis.call('PEXPIRE', KEYS[2], ARGV[5])
        redis.call('PUBLISH', ARGV[6], ARGV[7] .. ',"offset":"' .. id .. '"}')
        return id
        """)

    /// KEYS: the session, the user's stream, its trimmed-through key. ARGV: user id, the
    /// client's offset or '', '1' when a pid was given, the user's bus channel, the marker to
    /// publish there. Returns `{outcome, last id}`, and for `recovered` also the session, the id
    /// replayed after and the entries after it.
    static let beginScript = RedisScript(name: "user-log-begin", source: newer + "\n" + """
        local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
        local lastId = '0-0'
        if #last > 0 then lastId = last[1][1] end
        if ARGV[3] ~= '1' then return {'fresh', lastId} end
        redis.call('PUBLISH', ARGV[4], ARGV[5])
        local raw = redis.call('GET', KEYS[1])
        if not raw then return {'unknown_session', lastId} end
        local session = cjson.decode(raw)
        if session.userId ~= ARGV[1] then return {'unknown_session', lastId} end
        redis.call('DEL', KEYS[1])
        local from = session.baseline
        if ARGV[2] ~= '' and newer(ARGV[2], from) then from = ARGV[2] end
        local trimmed = redis.call('GET', KEYS[3])
        if trimmed and newer(trimmed, from) then return {'truncated', lastId} end
        return {'recovered', lastId, raw, from, redis.call('XRANGE', KEYS[2], '(' .. from, '+')}
        """)
}
