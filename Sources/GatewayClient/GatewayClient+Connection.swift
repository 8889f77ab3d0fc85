import GatewayJSON
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import SocketIOCodec

extension GatewayClient {
    /// The open link, waiting (up to `connectTimeout`) for one when there is none.
    func connectedLink() async throws(GatewayClientError) -> EngineLink {
        guard !isClosed else { throw .closed }
        if let link { return link }
        if maintainTask == nil {
            maintainTask = Task { await self.maintain() }
        }
        let id = nextWaiterID
        nextWaiterID += 1
        let timeout = options.connectTimeout
        let expiry = Task {
            // Cancelled when answered: then nothing expires.
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self.expireLinkWaiter(id)
        }
        defer { expiry.cancel() }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<EngineLink, GatewayClientError>, Never>) in
            linkWaiters[id] = continuation
        }
        return try result.get()
    }

    private func expireLinkWaiter(_ id: Int) {
        linkWaiters.removeValue(forKey: id)?.resume(returning: .failure(.notConnected(lastProblem)))
    }

    /// Connects, serves the link until it ends, waits, and again, until ``close()``.
    private func maintain() async {
        while !isClosed, !Task.isCancelled {
            setState(.connecting)
            do {
                let channel = try await WebSocketDialer.connect(to: endpoint, timeout: TimeAmount(options.connectTimeout))
                try await serve(channel)
                lastProblem = "the gateway closed the connection"
            } catch {
                lastProblem = "\(error)"
            }
            detach()
            guard !isClosed else { return }
            setState(.disconnected(reason: lastProblem))
            let delay = serverAskedDelay ?? options.reconnect.delay(attempt: failedAttempts)
            serverAskedDelay = nil
            failedAttempts += 1
            try? await Task.sleep(for: delay)
        }
    }

    /// Reads the link until it closes: answers pings, hands packets to ``receive(_:on:)``, and
    /// closes a link that stays silent past the heartbeat's allowance.
    private func serve(_ channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) async throws {
        try await channel.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            // A server that upgrades and then says nothing must not hold the reconnect loop.
            let silent = channel.channel.eventLoop.scheduleTask(in: TimeAmount(options.connectTimeout)) {
                channel.channel.close(promise: nil)
            }
            defer { silent.cancel() }
            guard let first = try await frames.next(), case .open(let json) = try EnginePacket.decode(textFrame: first.unmaskedData) else {
                throw GatewayClientError.protocolViolation("no Engine.IO open packet")
            }
            silent.cancel()
            let open = try EngineOpen(json: json)
            let (sends, sendQueue) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .unbounded)
            linkCount += 1
            let link = EngineLink(number: linkCount, sends: sendQueue, channel: channel.channel)
            let lastHeard = NIOLockedValueBox(ContinuousClock.now)
            let writer = Task {
                for await text in sends { try await outbound.write(.clientText(text)) }
            }
            let watchdog = Task {
                // The gateway pings every pingInterval: silence past that plus pingTimeout means
                // the path is gone without a FIN (reads would wait forever).
                let allowance = open.pingInterval + open.pingTimeout
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(1))
                    if lastHeard.withLockedValue({ $0 }).duration(to: .now) > allowance {
                        channel.channel.close(promise: nil)
                        return
                    }
                }
            }
            attach(link)
            defer {
                link.close()
                writer.cancel()
                watchdog.cancel()
            }
            while let frame = try await frames.next() {
                lastHeard.withLockedValue { $0 = .now }
                switch frame.opcode {
                case .connectionClose: return
                case .text:
                    switch try EnginePacket.decode(textFrame: frame.unmaskedData) {
                    case .ping: link.sendEngine("3")
                    case .message(let text): receive(try SocketPacket.decode(text), on: link)
                    case .close: return
                    default: continue
                    }
                default: continue
                }
            }
        }
    }

    private func attach(_ link: EngineLink) {
        self.link = link
        attachedAt = .now
        statistics.connections += 1
        setState(.connected)
        for waiter in linkWaiters.values { waiter.resume(returning: .success(link)) }
        linkWaiters = [:]
        Task { await self.restore(on: link) }
    }

    private func detach() {
        guard let link else { return }
        self.link = nil
        link.close()
        failRequests(with: .disconnected)
        namespaces = [:]
        resyncing = []
        for subscription in subscriptions.values { subscription.connectionLost() }
        // A connection that did not stay up counts as a failed attempt: a gateway that accepts
        // and drops at once is not hammered every half second.
        if let since = attachedAt, since.duration(to: .now) >= Self.stableAfter { failedAttempts = 0 }
        attachedAt = nil
    }

    /// Everything the streams need, on a new link: namespaces joined, subscriptions sent.
    private func restore(on link: EngineLink) async {
        for (id, subscription) in subscriptions.sorted(by: { $0.key < $1.key }) where subscription.linkNumber != link.number {
            guard link === self.link else { return }
            do {
                try await establish(subscription, on: link)
            } catch .disconnected, .closed {
                return  // the next link restores
            } catch .timeout {
                // A subscription left unanswered would stay dead on this link: start over.
                link.close()
                return
            } catch {
                // Refused for good (e.g. the token is no longer accepted): that stream ends.
                subscriptions[id] = nil
                subscription.fail(error)
            }
        }
    }

    /// Joins the subscription's namespace and sends its request; the ack's state is applied
    /// the moment it arrives.
    func establish(_ subscription: any ClientSubscription, on link: EngineLink) async throws(GatewayClientError) {
        guard link === self.link else { throw .disconnected }
        subscription.linkNumber = link.number
        _ = try await joinNamespace(subscription.namespace, on: link)
        guard let (event, payload) = subscription.subscribeRequest else { return }
        _ = try await send(event, payload, namespace: subscription.namespace, on: link) { ack in
            self.acknowledged(ack, for: subscription, on: link)
        }
    }

    /// A subscribe ack's state goes to every subscription that shares it (two books of one
    /// symbol share the gateway's one depth subscription); a snapshot that does not verify
    /// is fetched again.
    private func acknowledged(_ ack: JSONValue, for subscription: any ClientSubscription, on link: EngineLink) {
        var failed = false
        if !subscription.marketSymbols.isEmpty {
            freshnessTracker.acknowledged(ack, subscribed: subscription.marketSymbols, now: .now)
        }
        for other in subscriptions.values where other === subscription || other.sharesState(with: subscription) {
            if other.acknowledged(ack) != nil { failed = true }
        }
        if let book = subscription as? BookSubscription { resyncing.remove(book.symbol) }
        guard failed else { return }
        // Not at once: a gateway whose snapshots keep failing is not asked in a tight loop.
        Task {
            try? await Task.sleep(for: .milliseconds(250))
            self.resync(subscription, on: link)
        }
    }

    /// One Socket.IO packet from the current link.
    private func receive(_ packet: SocketPacket, on link: EngineLink) {
        guard link === self.link else { return }
        let namespace = packet.namespace
        switch packet.type {
        case .connect:
            joined(namespace, data: packet.data ?? .null)
        case .connectError:
            let data = packet.data
            let code = GatewayErrorCode(data?["data"]?["code"]?.stringValue ?? "UNAUTHORIZED")
            refusedJoin(namespace, error: .connectRefused(namespace: namespace, code: code, message: data?["message"]?.stringValue ?? "refused"))
        case .disconnect:
            namespaceDropped(namespace, on: link)
        case .ack, .binaryAck:
            if let id = packet.ackID, let completion = pendingAcks.removeValue(forKey: id) {
                let answer = packet.data?.arrayValue?.first ?? .null
                completion(GatewayClientError.refusal(in: answer).map { .failure($0) } ?? .success(answer))
            }
        case .event, .binaryEvent:
            guard let name = packet.eventName else { return }
            event(name, arguments: packet.eventArguments, namespace: namespace, on: link)
        }
    }

    private func event(_ name: String, arguments: [JSONValue], namespace: String, on link: EngineLink) {
        switch name {
        case "auth.expiring":
            Task { await self.refreshToken(namespace: namespace, on: link) }
        case "server.shutdown":
            if let after = arguments.first?["reconnectAfterMs"]?.intValue { serverAskedDelay = .milliseconds(after) }
        case "error":
            if arguments.first?["code"]?.stringValue == "TOKEN_EXPIRED" { expiredTokens.insert(namespace) }
        default:
            break
        }
        var arguments = arguments
        if namespace == "/user", UserEventsSubscription.events.contains(name) {
            // The recovery offset rides as the last argument; kept here, stripped for callers.
            var offset: String?
            if arguments.count >= 2, case .string(let text) = arguments.last {
                offset = text
                arguments.removeLast()
                userRecovery.offset = text
            }
            let event = UserEvent(name: name, payload: arguments.first ?? .null, offset: offset)
            for case let subscription as UserEventsSubscription in subscriptions.values { subscription.deliver(event) }
            return
        }
        if namespace == "/prices" || namespace == "/market" { freshnessTracker.observe(name, arguments.first, now: .now) }
        for subscription in subscriptions.values where subscription.namespace == namespace {
            guard let reason = subscription.handle(event: name, arguments: arguments) else { continue }
            if let book = subscription as? BookSubscription, resyncing.contains(book.symbol) { continue }
            switch reason {
            case .gap: statistics.bookGaps += 1
            case .checksumMismatch: statistics.checksumMismatches += 1
            }
            resync(subscription, on: link)
        }
    }

    /// Fetches the subscription's state again (a book's snapshot): leave, then subscribe anew.
    private func resync(_ subscription: any ClientSubscription, on link: EngineLink) {
        guard link === self.link else { return }
        if let book = subscription as? BookSubscription {
            // One resync per symbol at a time; its snapshot serves every book of the symbol.
            guard resyncing.insert(book.symbol).inserted else { return }
        }
        statistics.bookResyncs += 1
        if let (event, payload) = subscription.unsubscribeRequest(keeping: []) {
            link.send(.event(event, [payload], namespace: subscription.namespace))
        }
        Task {
            do {
                try await self.establish(subscription, on: link)
            } catch {
                // A dropped link restores it (and clears `resyncing`); a refusal ends the wait.
                if let book = subscription as? BookSubscription { await self.resyncEnded(book.symbol, on: link) }
            }
        }
    }

    /// Only the link's own resync is ended (a new link may have started another).
    private func resyncEnded(_ symbol: String, on link: EngineLink) {
        guard link === self.link else { return }
        resyncing.remove(symbol)
    }
}
