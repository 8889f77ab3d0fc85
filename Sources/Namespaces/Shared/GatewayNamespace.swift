import GatewayJSON
import GatewayCore
import JWTAuth
import Logging
import NIOCore

/// A namespace handler built from a ``NamespaceBehavior`` plus what every namespace does:
/// authenticate the CONNECT, hold connection slots, rate-limit events, answer `ping`, send
/// acks or `error` events, and watch the token's expiry.
final class GatewayNamespace<Behavior: NamespaceBehavior>: NamespaceHandler {
    typealias Context = SocketContext<Behavior.SocketData>
    let behavior: Behavior
    let services: GatewayServices
    var name: NamespacePath { behavior.name }

    init(_ behavior: Behavior, services: GatewayServices) {
        self.behavior = behavior
        self.services = services
    }

    /// Slots taken during `authorize`, handed to the socket's state on connect.
    struct Admission: Sendable {
        let principal: Principal?
        let ipSlot: String
        let userSlot: String?
        let recovery: RecoveryPlan?
    }

    // MARK: Connect

    func authorize(_ request: ConnectRequest) -> ConnectDecision<Admission> {
        logged(decide(request), request)
    }

    /// Refusals are bad input as far as the log goes: bounded, and never the token.
    private func logged(_ decision: ConnectDecision<Admission>, _ request: ConnectRequest) -> ConnectDecision<Admission> {
        switch decision {
        case .reject(_, let data):
            BadInputLog.shared.log(services.logger, "Connection refused", metadata: [
                "namespace": "\(name)", "refusal.code": "\(data?["code"]?.stringValue ?? "?")",
                "client.address": "\(request.handshake.remoteAddress ?? "?")",
            ])
            return decision
        case .deferred(let later):
            return .deferred(later.map { [self] in logged($0, request) })
        case .accept:
            return decision
        }
    }

    private func decide(_ request: ConnectRequest) -> ConnectDecision<Admission> {
        if !behavior.staysOpenInMaintenance, let message = services.maintenance.message {
            return Authentication.refusal(message, code: "MAINTENANCE")
        }
        var principal: Principal?
        switch Authentication.authenticate(request, services: services) {
        case .refused(let message, let code): return Authentication.refusal(message, code: code)
        case .anonymous: principal = nil
        case .authenticated(let verified): principal = verified
        }
        if case .roles(let roles) = behavior.access {
            guard let principal else {
                return Authentication.refusal("This namespace needs a token: pass auth {\"token\": \"<JWT>\"}.", code: "UNAUTHORIZED")
            }
            guard roles.contains(principal.role) else {
                return Authentication.refusal("Your role '\(principal.role.rawValue)' may not use \(name).", code: "FORBIDDEN")
            }
        }
        let ipSlot = name.value + "|" + AddressKey.of(request.handshake.remoteAddress)
        guard services.ipSockets.acquire(ipSlot) else {
            return Authentication.refusal("Too many connections from your address.", code: "CONNECTION_LIMIT")
        }
        guard behavior.limitsSocketsPerUser, let principal else {
            return admit(request, principal: principal, ipSlot: ipSlot, userSlot: nil)
        }
        // The per-user cap may be cluster-wide: then the slot is decided in Redis.
        let userId = principal.userId
        let decided: @Sendable (Bool) -> ConnectDecision<Admission> = { [self] taken in
            guard taken else {
                services.ipSockets.release(ipSlot)
                let limit = services.settings.maxConnectionsPerUser
                return Authentication.refusal("You already have \(limit) connections to \(name); close one first.", code: "CONNECTION_LIMIT")
            }
            return admit(request, principal: principal, ipSlot: ipSlot, userSlot: userId)
        }
        switch services.userSockets.acquire(userId, on: request.eventLoop) {
        case .now(let taken): return decided(taken)
        case .later(let taken): return .deferred(taken.map(decided))
        }
    }

    /// The acceptance, once the slots are held.
    private func admit(_ request: ConnectRequest, principal: Principal?, ipSlot: String, userSlot: String?) -> ConnectDecision<Admission> {
        let accept = { (recovery: RecoveryPlan?) -> ConnectDecision<Admission> in
            .accept(
                Admission(principal: principal, ipSlot: ipSlot, userSlot: userSlot, recovery: recovery),
                reply: recovery?.reply ?? ConnectReply()
            )
        }
        guard behavior.offersRecovery, let principal else { return accept(nil) }
        switch RecoveryPlan.decide(request.auth, userId: principal.userId, hub: services.userEvents, on: request.eventLoop) {
        case .off: return accept(nil)
        case .now(let plan): return accept(plan)
        case .later(let plan):
            // Cluster mode: the session may be on any instance; the shared store decides.
            return .deferred(plan.map(accept))
        }
    }

    /// A deferred acceptance whose client left meanwhile: its slots go back.
    func abandoned(_ admission: Admission) {
        services.ipSockets.release(admission.ipSlot)
        if let slot = admission.userSlot { services.userSockets.release(slot) }
        // A session taken for this socket goes back, so the client can still recover with it.
        if case .restored(let session, _, _)? = admission.recovery { services.userEvents.keep(session) }
    }

    func connected(_ socket: NamespaceSocket, admission: Admission) -> Context {
        let state = Context(principal: admission.principal, socket: socket, data: behavior.socketData(recovery: admission.recovery))
        state.heldIpSlot = admission.ipSlot
        state.heldUserSlot = admission.userSlot
        if let userId = admission.userSlot { services.presence?.socketOpened(userId) }
        socket.owner = admission.principal?.userId
        services.connections.acquire(name.value)
        if behavior.announcesConnection {
            socket.emit("connection.authenticated", [
                .object([
                    "sid": .string(socket.id), "namespace": .string(name.value),
                    "userId": state.principal.map { .string($0.userId) } ?? .null,
                ])
            ])
        }
        if let principal = state.principal, watchesExpiry(of: principal) {
            scheduleExpiry(socket, state: state, principal: principal)
        }
        behavior.connected(socket, context: state)
        services.logger.debug("Socket connected", metadata: Self.metadata(socket, context: state).merging([
            "recovery": "\(admission.recovery.map { if case .restored = $0 { "recovered" } else { "fresh" } } ?? "off")",
        ]) { $1 })
        return state
    }

    /// Who a log line is about: socket id, namespace, user id (never the token).
    static func metadata<Data>(_ socket: NamespaceSocket, context: SocketContext<Data>) -> Logger.Metadata {
        [
            "socket.id": "\(socket.id)", "namespace": "\(socket.namespace)",
            "user.id": "\(context.principal?.userId ?? "-")",
        ]
    }

    func disconnected(_ socket: NamespaceSocket, state: Context, reason: DisconnectReason) {
        services.logger.debug("Socket disconnected", metadata: Self.metadata(socket, context: state).merging(["close.reason": "\(reason.rawValue)"]) { $1 })
        behavior.disconnected(socket, context: state, reason: reason)
        services.connections.release(name.value)
        state.cancelTimers()
        if !state.rateKey.isShared { services.rateLimits.forget(key: state.rateKey) }
        services.subscriptions.releaseAll(state, namespace: name)
        if let slot = state.heldIpSlot { services.ipSockets.release(slot) }
        if let slot = state.heldUserSlot {
            services.userSockets.release(slot)
            services.presence?.socketClosed(slot)
        }
    }

    func resync(_ key: ConflationKey, skipped: ClosedRange<UInt64>?, socket: NamespaceSocket, state: Context) {
        behavior.resync(key, skipped: skipped, socket: socket, context: state)
    }

    /// A lagging socket skipped trades of a symbol it still follows: `market.gap` in their
    /// place. The stream's subject is the symbol (``MarketState`` sets it on trade streams).
    func gapNotice(_ key: ConflationKey, skipped: ClosedRange<UInt64>, socket: NamespaceSocket, state: Context) -> EncodedFrame? {
        guard !key.stream.subject.isEmpty, socket.rooms.contains(key.stream.room) else { return nil }
        return TradeGapNotice.frame(skipped: skipped, symbol: key.stream.subject, namespace: name)
    }

    // MARK: Events

    func received(event: String, arguments: [JSONValue], ack: Acknowledgement?, from socket: NamespaceSocket, state: Context) {
        let policy = services.settings.rateLimits[name] ?? NamespaceSettings.defaultRateLimits[.root]!
        switch services.rateLimits.take(key: state.rateKey, policy: policy, now: services.now(), on: socket.eventLoop) {
        case .now(let decision):
            handle(event: event, arguments: arguments, ack: ack, socket: socket, state: state, decision: decision)
        case .later(let decision):
            // A shared bucket (cluster mode) answers from Redis (or, past a short deadline, the
            // local bucket); the event waits on this socket's loop. A client with more checks
            // waiting than that is decided by its local bucket at once: what waits stays
            // bounded, and a slow Redis never turns into refusals.
            guard state.rateChecksInFlight < maximumRateChecksInFlight else {
                services.metrics.countLocalRateDecision(reason: .busy)
                let decision = services.rateLimits.takeLocally(key: state.rateKey, policy: policy, now: services.now())
                return handle(event: event, arguments: arguments, ack: ack, socket: socket, state: state, decision: decision)
            }
            state.rateChecksInFlight += 1
            decision.hop(to: socket.eventLoop).whenComplete { [self] result in
                state.rateChecksInFlight -= 1
                guard socket.isConnected else { return }
                handle(event: event, arguments: arguments, ack: ack, socket: socket, state: state, decision: (try? result.get()) ?? .allowed)
            }
        }
    }

    private func handle(
        event: String, arguments: [JSONValue], ack: Acknowledgement?, socket: NamespaceSocket, state: Context, decision: TokenBucket.Decision
    ) {
        if case .refused(let retryAfterMs) = decision {
            services.metrics.countRateLimited(namespace: name.value)
            let error = ClientError(.rateLimit, "Too many requests; wait \(retryAfterMs) ms.", retryAfterMs: retryAfterMs)
            EventReply.failure(error, event: event, ack: ack, socket: socket)
            return
        }
        let payload = arguments.first
        let outcome: EventOutcome
        switch event {
        case "ping":
            outcome = .success(fields: [JSONMember("ts", .number(String(WallClock.milliseconds())))])
        case "auth.refresh" where behavior.enforcesTokenExpiry || state.principal != nil:
            outcome = refresh(payload, socket: socket, state: state)
        default:
            outcome = behavior.handle(event, payload: payload, socket: socket, context: state)
                ?? .failure(.unknownEvent(event))
        }
        reply(outcome, event: event, ack: ack, socket: socket)
    }

    private func reply(_ outcome: EventOutcome, event: String, ack: Acknowledgement?, socket: NamespaceSocket) {
        switch outcome {
        case .deferred(let future):
            future.hop(to: socket.eventLoop).whenComplete { [self] result in
                switch result {
                case .success(let outcome): reply(outcome, event: event, ack: ack, socket: socket)
                case .failure: reply(.failure(ClientError(.invalidPayload, "The command could not complete.")), event: event, ack: ack, socket: socket)
                }
            }
        case .success(let fields, let confirmation, let followUps):
            if let ack {
                // The ack carries the state; nothing else is sent.
                EventReply.success(fields, ack: ack)
            } else {
                // Without an ack id: the confirmation, then the same state as ordinary events.
                if let (name, body) = confirmation { socket.emit(name, [body]) }
                for (name, body) in followUps { socket.emit(name, [body]) }
            }
        case .failure(let error):
            EventReply.failure(error, event: event, ack: ack, socket: socket)
        }
    }

    // MARK: Token lifetime

    private func refresh(_ payload: JSONValue?, socket: NamespaceSocket, state: Context) -> EventOutcome {
        guard let token = payload?["token"]?.stringValue else {
            return .failure(ClientError(.invalidPayload, "Send {\"token\":\"<JWT>\"} with a newer token."))
        }
        let principal: Principal
        do {
            principal = try services.authenticator.verify(token, now: services.now())
        } catch {
            return .failure(ClientError(.invalidPayload, "The new token is not valid: \(error.message)"))
        }
        guard principal.userId == state.principal?.userId else {
            return .failure(ClientError(.forbidden, "The new token belongs to another user."))
        }
        if case .roles(let roles) = behavior.access, !roles.contains(principal.role) {
            return .failure(ClientError(.forbidden, "The new token's role may not use \(name)."))
        }
        state.principal = principal
        if watchesExpiry(of: principal) { scheduleExpiry(socket, state: state, principal: principal) } else { state.cancelTimers() }
        return .success(fields: [JSONMember("expiresAt", .int(Int(principal.expiresAt * 1000)))])  // exp <= year 9999: fits
    }

    /// `/user` and `/admin` end with their token; on `/market` only a premium tier does (when
    /// premium channels are configured), so only then is `exp` watched there.
    private func watchesExpiry(of principal: Principal) -> Bool {
        behavior.enforcesTokenExpiry || (behavior.hasPremiumChannels && principal.tier == .premium && !services.settings.premiumChannels.isEmpty)
    }

    /// The token's `exp` passed: `/user` and `/admin` disconnect; elsewhere the socket stays,
    /// without the premium tier.
    private func expired(_ socket: NamespaceSocket, state: Context) {
        guard !behavior.enforcesTokenExpiry, let principal = state.principal else {
            socket.emit("error", [
                .object(["code": "TOKEN_EXPIRED", "message": "Your token expired; reconnect with a new one or send auth.refresh before it expires."])
            ])
            return socket.disconnect()
        }
        state.principal = Principal(userId: principal.userId, role: principal.role, tier: .free, expiresAt: principal.expiresAt)
        behavior.premiumExpired(socket, context: state)
    }

    /// `auth.expiring` `expiryWarningSeconds` before `exp`, then TOKEN_EXPIRED and a
    /// disconnect at `exp`, unless `auth.refresh` moved them. Delays are planned by
    /// ``TokenExpiryPlan``: none overflows, and one cut short plans again when it fires.
    private func scheduleExpiry(_ socket: NamespaceSocket, state: Context, principal: Principal, warned: Bool = false) {
        state.cancelTimers()
        let services = services
        let plan = TokenExpiryPlan(expiresAt: principal.expiresAt, now: services.now(), warningSeconds: services.settings.expiryWarningSeconds)
        let warn: @Sendable () -> Void = { [weak socket] in
            guard let socket, socket.isConnected else { return }
            let left = TokenExpiryPlan.millisecondsLeft(expiresAt: principal.expiresAt, now: services.now())
            socket.emit("auth.expiring", [.object(["expiresInMs": .int(left)])])
        }
        switch plan.warning {
        case .after(let delay): state.expiryWarning = socket.eventLoop.scheduleTask(in: delay, warn)
        case .now where !warned: warn()
        case .now, .later: break
        }
        state.expiry = socket.eventLoop.scheduleTask(in: plan.expireIn) { [weak self, weak socket] in
            guard let self, let socket, socket.isConnected else { return }
            guard plan.isFinal else {
                return scheduleExpiry(socket, state: state, principal: principal, warned: plan.warning != .later)
            }
            expired(socket, state: state)
        }
    }
}
