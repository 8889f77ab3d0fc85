import GatewayJSON
import SocketIOCodec

/// A client for the gateway's Socket.IO API that keeps itself connected.
///
/// ```swift
/// let client = try GatewayClient(url: "https://gateway.example.com", token: { try await auth.freshToken() })
/// for await update in try await client.prices(["BTC/USDT"]) { print(update.symbol, update.price) }
/// ```
///
/// One WebSocket carries every namespace. When it drops, the client reconnects with
/// exponential backoff and jitter (or after the delay a `server.shutdown` asked for),
/// re-joins the namespaces, subscribes again to everything its streams need, recovers `/user`
/// (no event lost or seen twice within the gateway's recovery window) and rebuilds each order
/// book from a fresh snapshot. Streams outlive reconnects; they end when the caller stops
/// iterating, when the gateway refuses them for good, or at ``close()``.
///
/// Call ``close()`` when done: the client keeps its connection (and reconnects) until then,
/// as a URLSession lives until it is invalidated.
public actor GatewayClient {
    /// Supplies a token for `/user` and `/admin`; asked at every (re)connect and when the
    /// gateway warns that the current one expires (`auth.expiring`).
    public typealias TokenProvider = @Sendable () async throws -> String

    public struct Options: Sendable {
        /// The gateway's Engine.IO path.
        public var path: String
        /// PEM CA certificates to trust for `https://` / `wss://` (default: the system's).
        public var caFile: String?
        public var reconnect: ReconnectPolicy
        /// How long a call waits for a connection before it throws ``GatewayClientError/notConnected(_:)``.
        public var connectTimeout: Duration
        /// How long a request (subscribe, namespace connect) waits for its answer.
        public var requestTimeout: Duration
        /// Levels per side in each ``OrderBook`` yielded; the gateway is asked for the least of
        /// its depth choices (10, 50, 200, 1000) that holds them, so no more crosses the network.
        public var bookDepth: Int
        /// Heartbeats asked for every market subscription (`heartbeatMs`; nil: none), so
        /// ``requireFresh(_:maxSilence:)`` can tell a quiet market from a dead link.
        public var heartbeatMs: Int?

        public init(
            path: String = "/socket.io/", caFile: String? = nil, reconnect: ReconnectPolicy = .init(),
            connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(10), bookDepth: Int = 10,
            heartbeatMs: Int? = 1_000
        ) {
            self.heartbeatMs = heartbeatMs
            self.path = path
            self.caFile = caFile
            self.reconnect = reconnect
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.bookDepth = bookDepth
        }
    }

    public enum ConnectionState: Sendable, Hashable {
        case connecting
        case connected
        /// Waiting to reconnect; `reason` says what ended the last connection.
        case disconnected(reason: String)
        case closed
    }

    /// What the client has had to do to keep its streams right.
    public struct Statistics: Sendable, Hashable {
        /// Engine.IO connections opened.
        public internal(set) var connections = 0
        public var reconnects: Int { max(0, connections - 1) }
        /// Books fetched again after a gap or a checksum mismatch.
        public internal(set) var bookResyncs = 0
        public internal(set) var bookGaps = 0
        public internal(set) var checksumMismatches = 0
        /// `/user` reconnects the gateway recovered (missed events replayed).
        public internal(set) var recoveries = 0
        /// `/user` reconnects it could not recover (``UserStreamElement/recoveryFailed`` was sent).
        public internal(set) var recoveryFailures = 0
        public internal(set) var tokenRefreshes = 0

        public init() {}
    }

    let endpoint: GatewayEndpoint
    let options: Options
    let tokenProvider: TokenProvider?

    // The connection.
    var link: EngineLink?
    var linkCount = 0
    var linkWaiters: [Int: CheckedContinuation<Result<EngineLink, GatewayClientError>, Never>] = [:]
    var nextWaiterID = 0
    var maintainTask: Task<Void, Never>?
    var isClosed = false
    var lastProblem = "not connected yet"
    var failedAttempts = 0
    /// When the current link opened; a link that lasts `stableAfter` resets the backoff.
    var attachedAt: ContinuousClock.Instant?
    static let stableAfter: Duration = .seconds(5)
    /// `server.shutdown`'s `reconnectAfterMs`, used once instead of the backoff.
    var serverAskedDelay: Duration?
    var stateObservers: [Int: AsyncStream<ConnectionState>.Continuation] = [:]
    public internal(set) var state: ConnectionState = .connecting

    // Namespaces and requests on the current link.
    var namespaces: [String: NamespaceState] = [:]
    var nextAckID: UInt64 = 1
    var pendingAcks: [UInt64: (Result<JSONValue, GatewayClientError>) -> Void] = [:]
    /// Namespaces whose token expired: re-joined with a fresh token when the gateway drops them.
    var expiredTokens: Set<String> = []

    // What the caller streams.
    var subscriptions: [Int: any ClientSubscription] = [:]
    var nextSubscriptionID = 0
    var userRecovery = UserRecovery()
    /// Symbols whose book snapshot is being fetched again.
    var resyncing: Set<String> = []
    /// Freshness and declared gaps per symbol.
    var freshnessTracker = FreshnessTracker()

    public internal(set) var statistics = Statistics()

    /// `url`: `http://`, `ws://`, `https://` or `wss://` with host and port. `token`: for
    /// `/user` (and any namespace that wants one); public streams need none.
    public init(url: String, options: Options = .init(), token: TokenProvider? = nil) throws(GatewayClientError) {
        endpoint = try GatewayEndpoint(url: url, path: options.path, caFile: options.caFile)
        self.options = options
        tokenProvider = token
    }

    // MARK: Streams

    /// Price updates for `symbols`: the latest known price of each at once, then every change.
    /// Throws when the gateway refuses the subscription (e.g. ``GatewayErrorCode/unknownSymbol``).
    public func prices(_ symbols: [String]) async throws(GatewayClientError) -> AsyncStream<PriceUpdate> {
        let (stream, continuation) = AsyncStream.makeStream(of: PriceUpdate.self, bufferingPolicy: .bufferingNewest(4096))
        try await add(PricesSubscription(symbols: symbols, heartbeatMs: options.heartbeatMs, continuation: continuation), continuation: continuation)
        return stream
    }

    /// The order book of `symbol`, verified (sequence and checksum) after every update; a new
    /// value per update. Gaps and mismatches are repaired by fetching a snapshot again
    /// (``Statistics/bookResyncs``); a slow reader sees the newest book.
    public func book(_ symbol: String, cadence: BookCadence = .ms100) async throws(GatewayClientError) -> AsyncStream<OrderBook> {
        let (stream, continuation) = AsyncStream.makeStream(of: OrderBook.self, bufferingPolicy: .bufferingNewest(1))
        let subscription = BookSubscription(symbol: symbol, cadence: cadence, depth: options.bookDepth, heartbeatMs: options.heartbeatMs, continuation: continuation)
        try await add(subscription, continuation: continuation)
        return stream
    }

    /// Trades of `symbol` as the gateway reports them.
    public func trades(_ symbol: String) async throws(GatewayClientError) -> AsyncStream<Trade> {
        let (stream, continuation) = AsyncStream.makeStream(of: Trade.self, bufferingPolicy: .bufferingNewest(4096))
        try await add(TradesSubscription(symbol: symbol, heartbeatMs: options.heartbeatMs, continuation: continuation), continuation: continuation)
        return stream
    }

    /// The signed-in user's events, in order, each once, across reconnects (connection state
    /// recovery). Needs a token. Nothing is dropped: the stream buffers until read.
    public func userEvents() async throws(GatewayClientError) -> AsyncStream<UserStreamElement> {
        let (stream, continuation) = AsyncStream.makeStream(of: UserStreamElement.self, bufferingPolicy: .unbounded)
        try await add(UserEventsSubscription(continuation: continuation), continuation: continuation)
        return stream
    }

    /// What the client knows of `symbol`'s freshness: stale or not, its book's state, the
    /// source time last seen, and the gaps the gateway declared.
    public func freshness(_ symbol: String) -> MarketFreshness {
        freshnessTracker[symbol]
    }

    /// Throws ``GatewayClientError/notFresh(symbol:reason:)`` unless `symbol`'s data is fit to act
    /// on now: connected, its feed not stale, its book (when streamed) verified and whole, and
    /// something heard of it within `maxSilence` (with heartbeats on, a quiet market still
    /// counts as heard). A trading loop calls it before each decision.
    public func requireFresh(_ symbol: String, maxSilence: Duration = .seconds(5)) throws(GatewayClientError) {
        func refuse(_ reason: String) -> GatewayClientError { .notFresh(symbol: symbol, reason: reason) }
        guard state == .connected else { throw refuse("not connected to the gateway") }
        let entry = freshnessTracker[symbol]
        if entry.isStale { throw refuse("the gateway says its feed is silent") }
        if entry.isBookStale { throw refuse("its book broke in the feed and awaits a snapshot") }
        let books = subscriptions.values.compactMap { $0 as? BookSubscription }.filter { $0.symbol == symbol }
        if resyncing.contains(symbol) || books.contains(where: { !$0.isSynced }) { throw refuse("its book is being fetched again") }
        guard let heard = entry.lastHeard else { throw refuse("nothing heard of it yet") }
        if heard.duration(to: .now) > maxSilence { throw refuse("nothing heard of it for \(heard.duration(to: .now))") }
    }

    /// The connection's state now and at every change.
    public func states() -> AsyncStream<ConnectionState> {
        let (stream, continuation) = AsyncStream.makeStream(of: ConnectionState.self, bufferingPolicy: .bufferingNewest(16))
        guard !isClosed else {
            continuation.yield(.closed)
            continuation.finish()
            return stream
        }
        let id = nextSubscriptionID
        nextSubscriptionID += 1
        stateObservers[id] = continuation
        continuation.yield(state)
        continuation.onTermination = { _ in Task { await self.removeStateObserver(id) } }
        return stream
    }

    /// Sends `event` to `namespace` and returns the gateway's answer (`{"ok":true,…}`);
    /// a refusal throws ``GatewayClientError/refused(code:message:retryAfterMs:)``.
    public func request(_ namespace: String, _ event: String, _ payload: JSONValue) async throws(GatewayClientError) -> JSONValue {
        let link = try await connectedLink()
        _ = try await joinNamespace(namespace, on: link)
        return try await send(event, payload, namespace: namespace, on: link)
    }

    /// Ends every stream and the connection.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        maintainTask?.cancel()
        link?.close()
        for subscription in subscriptions.values { subscription.finish() }
        subscriptions = [:]
        for waiter in linkWaiters.values { waiter.resume(returning: .failure(.closed)) }
        linkWaiters = [:]
        failRequests(with: .closed)
        setState(.closed)
        for observer in stateObservers.values { observer.finish() }
        stateObservers = [:]
    }

    // MARK: Subscriptions

    private func add<Element>(_ subscription: any ClientSubscription, continuation: AsyncStream<Element>.Continuation) async throws(GatewayClientError) {
        guard !isClosed else { throw .closed }
        let id = nextSubscriptionID
        nextSubscriptionID += 1
        subscriptions[id] = subscription
        do {
            let link = try await connectedLink()
            try await establish(subscription, on: link)
        } catch {
            subscriptions[id] = nil
            continuation.finish()
            throw error
        }
        continuation.onTermination = { _ in Task { await self.remove(id) } }
    }

    private func remove(_ id: Int) {
        guard let subscription = subscriptions.removeValue(forKey: id) else { return }
        guard let link, case .joined = namespaces[subscription.namespace] else { return }
        if let (event, payload) = subscription.unsubscribeRequest(keeping: Array(subscriptions.values)) {
            link.send(.event(event, [payload], namespace: subscription.namespace))
        }
    }

    private func removeStateObserver(_ id: Int) {
        stateObservers[id] = nil
    }

    func setState(_ new: ConnectionState) {
        guard new != state else { return }
        state = new
        for observer in stateObservers.values { observer.yield(new) }
    }
}

/// A namespace on the current link.
enum NamespaceState {
    case joining([CheckedContinuation<Result<JSONValue, GatewayClientError>, Never>])
    /// With the CONNECT reply's data.
    case joined(JSONValue)
}

/// `/user` connection state recovery: the session id and the last offset received.
struct UserRecovery {
    var pid: String?
    var offset: String?
}
