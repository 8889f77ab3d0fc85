import GatewayJSON
import SocketIOCodec

extension GatewayClient {
    /// Joins `namespace` on `link` once (concurrent callers share the join) and returns the
    /// CONNECT reply's data.
    func joinNamespace(_ namespace: String, on link: EngineLink) async throws(GatewayClientError) -> JSONValue {
        // The namespace table is the current link's: a stale link must not touch it.
        guard link === self.link else { throw .disconnected }
        switch namespaces[namespace] {
        case .joined(let data):
            return data
        case .joining:
            return try await waitForJoin(namespace)
        case nil:
            namespaces[namespace] = .joining([])
            let auth: JSONValue
            do {
                auth = try await self.auth(for: namespace)
            } catch {
                if link === self.link { refusedJoin(namespace, error: error) }
                throw error
            }
            // The link may have dropped while the token provider ran (detach failed the join).
            guard link === self.link else { throw .disconnected }
            link.send(SocketPacket(type: .connect, namespace: namespace, data: auth))
            let timeout = options.requestTimeout
            let expiry = Task {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                self.joinTimedOut(namespace, on: link)
            }
            defer { expiry.cancel() }
            return try await waitForJoin(namespace)
        }
    }

    private func waitForJoin(_ namespace: String) async throws(GatewayClientError) -> JSONValue {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<JSONValue, GatewayClientError>, Never>) in
            guard case .joining(var waiters) = namespaces[namespace] else {
                continuation.resume(returning: .failure(.disconnected))
                return
            }
            waiters.append(continuation)
            namespaces[namespace] = .joining(waiters)
        }
        return try result.get()
    }

    /// No CONNECT answer in time. The gateway may still answer, and a second CONNECT for the
    /// namespace would be a protocol violation, so the link is dropped: the reconnect restores
    /// everything on a clean one.
    private func joinTimedOut(_ namespace: String, on link: EngineLink) {
        guard link === self.link else { return }
        refusedJoin(namespace, error: .timeout("joining \(namespace)"))
        link.close()
    }

    /// The CONNECT auth payload: the token, and on `/user` the recovery request.
    private func auth(for namespace: String) async throws(GatewayClientError) -> JSONValue {
        var members: [JSONMember] = []
        if let tokenProvider {
            do {
                members.append(JSONMember("token", .string(try await tokenProvider())))
            } catch {
                throw .connectRefused(namespace: namespace, code: .unauthorized, message: "the token provider failed: \(error)")
            }
        }
        if namespace == "/user" {
            if let pid = userRecovery.pid {
                members.append(JSONMember("pid", .string(pid)))
                if let offset = userRecovery.offset { members.append(JSONMember("offset", .string(offset))) }
            } else {
                members.append(JSONMember("recovery", .bool(true)))
            }
        }
        return .object(members)
    }

    func joined(_ namespace: String, data: JSONValue) {
        guard case .joining(let waiters) = namespaces[namespace] else { return }
        namespaces[namespace] = .joined(data)
        expiredTokens.remove(namespace)
        if namespace == "/user" { settleRecovery(data) }
        for waiter in waiters { waiter.resume(returning: .success(data)) }
    }

    /// Fails a join still under way (a joined namespace is left as it is).
    func refusedJoin(_ namespace: String, error: GatewayClientError) {
        guard case .joining(let waiters) = namespaces[namespace] else { return }
        namespaces[namespace] = nil
        for waiter in waiters { waiter.resume(returning: .failure(error)) }
    }

    /// `/user`'s CONNECT reply says whether the missed events follow (`recovered`).
    private func settleRecovery(_ data: JSONValue) {
        let asked = userRecovery.pid != nil
        let recovered = data["recovered"] == .bool(true)
        if asked {
            if recovered {
                statistics.recoveries += 1
            } else {
                statistics.recoveryFailures += 1
                for case let subscription as UserEventsSubscription in subscriptions.values { subscription.recoveryFailed() }
            }
        }
        userRecovery.pid = data["pid"]?.stringValue
        if !recovered { userRecovery.offset = nil }
    }

    /// The gateway closed a namespace. After a token expiry it is joined again with a fresh
    /// token; otherwise (an admin kick, a refused token) its streams end, as a Socket.IO client
    /// does not rejoin what the server closed.
    func namespaceDropped(_ namespace: String, on link: EngineLink) {
        namespaces[namespace] = nil
        let rejoin = expiredTokens.remove(namespace) != nil && tokenProvider != nil
        for (id, subscription) in subscriptions where subscription.namespace == namespace {
            subscription.connectionLost()
            if rejoin {
                subscription.linkNumber = nil
            } else {
                subscriptions[id] = nil
                subscription.fail(.disconnected)
            }
        }
        if rejoin {
            Task { await self.rejoin(namespace, on: link) }
        }
    }

    private func rejoin(_ namespace: String, on link: EngineLink) async {
        for subscription in subscriptions.values where subscription.namespace == namespace && subscription.linkNumber == nil {
            guard link === self.link else { return }
            try? await establish(subscription, on: link)
        }
    }

    /// Emits `event` with an ack id; `onAck` runs when the answer arrives, before any packet
    /// after it (so a subscription's state and the stream that follows meet exactly).
    func send(
        _ event: String, _ payload: JSONValue, namespace: String, on link: EngineLink,
        onAck: @escaping (JSONValue) -> Void = { _ in }
    ) async throws(GatewayClientError) -> JSONValue {
        guard link === self.link else { throw .disconnected }
        let id = nextAckID
        nextAckID += 1
        let timeout = options.requestTimeout
        let expiry = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self.expireRequest(id, what: "\(event) on \(namespace)")
        }
        defer { expiry.cancel() }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<JSONValue, GatewayClientError>, Never>) in
            pendingAcks[id] = { result in
                if case .success(let ack) = result { onAck(ack) }
                continuation.resume(returning: result)
            }
            link.send(.event(event, [payload], namespace: namespace, ackID: id))
        }
        return try result.get()
    }

    private func expireRequest(_ id: UInt64, what: String) {
        pendingAcks.removeValue(forKey: id)?(.failure(.timeout(what)))
    }

    /// Every answer still awaited on the current link fails (before the link's tables go).
    func failRequests(with error: GatewayClientError) {
        let acks = pendingAcks
        pendingAcks = [:]
        for completion in acks.values { completion(.failure(error)) }
        for (namespace, state) in namespaces {
            if case .joining = state { refusedJoin(namespace, error: error) }
        }
    }

    /// `auth.expiring`: a fresh token from the provider, sent with `auth.refresh`.
    func refreshToken(namespace: String, on link: EngineLink) async {
        guard let tokenProvider, let token = try? await tokenProvider() else { return }
        if (try? await send("auth.refresh", .object(["token": .string(token)]), namespace: namespace, on: link)) != nil {
            statistics.tokenRefreshes += 1
        }
    }
}
