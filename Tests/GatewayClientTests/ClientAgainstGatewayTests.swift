import Foundation
@testable import GatewayClient
import GatewayJSON
import JWTAuth
import NIOConcurrencyHelpers
import Testing

/// The client library against the real `gateway` executable on 127.0.0.1 (simulator feed),
/// with real sockets cut and a real process killed.
@Suite("GatewayClient against a running gateway", .serialized)
struct ClientAgainstGatewayTests {
    static let secret = "client-tests-secret-0123456789abcdef"

    static func token(_ subject: String, role: Principal.Role = .user, ttl: Double = 3600) throws -> String {
        try TokenMinter(secret: secret).mint(subject: subject, role: role, now: Date().timeIntervalSince1970, ttlSeconds: ttl)
    }

    static func gateway() async throws -> GatewayProcess {
        try await GatewayProcess.launch(environment: ["JWT_SECRET": secret, "LOG_LEVEL": "warning"])
    }

    /// Publishes a `/user` event through the HTTP API, as a trading back end does.
    static func publish(_ gateway: GatewayProcess, user: String, number: Int) async throws {
        let body = #"{"event":"order.update","data":{"orderId":"o-\#(number)","n":\#(number)}}"#
        let (status, data) = try await gateway.http("POST", "/api/v1/users/\(user)/events", body: body, token: try token("producer", role: .service))
        guard status == 202 else { throw TestFailure("publishing failed: \(status) \(String(decoding: data, as: UTF8.self))") }
    }

    /// Counts calls (the token provider's).
    final class Counter: Sendable {
        private let count = NIOLockedValueBox(0)
        func next() -> Int {
            count.withLockedValue { value in
                defer { value += 1 }
                return value
            }
        }
    }

    static func numbers(_ elements: [UserStreamElement]) -> [Int] {
        elements.compactMap { if case .event(let event) = $0 { event.payload["n"]?.intValue } else { nil } }
    }

    @Test("prices arrive at once and as they change; the book is verified after every update")
    func streams() async throws {
        let gateway = try await Self.gateway()
        let client = try GatewayClient(url: gateway.url)
        let prices = Recorder(try await client.prices(["BTC/USDT", "ETH/USDT"]))
        let books = Recorder(try await client.book("BTC/USDT", cadence: .raw))
        #expect(await prices.waitFor(10))
        #expect(Set(prices.all.map(\.symbol)) == ["BTC/USDT", "ETH/USDT"])
        #expect(await books.waitFor(20))
        let seqs = books.all.map(\.seq)
        #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count, "each book is a newer state")
        for book in books.all {
            #expect(book.bids.count > 0 && book.asks.count > 0)
            #expect(Decimal(string: book.bids[0].price)! < Decimal(string: book.asks[0].price)!, "bid below ask")
            // The view holds the 10 levels the gateway's checksum covers: recomputed, it matches.
            #expect(LocalOrderBook.checksum(bids: book.bids, asks: book.asks) == book.checksum)
        }
        let statistics = await client.statistics
        #expect(statistics.checksumMismatches == 0 && statistics.bookGaps == 0 && statistics.connections == 1)
        await client.close()
    }

    @Test("refusals carry the gateway's error codes")
    func refusals() async throws {
        let gateway = try await Self.gateway()
        let anonymous = try GatewayClient(url: gateway.url)
        do {
            _ = try await anonymous.prices(["NOPE/USDT"])
            Issue.record("an unknown symbol was accepted")
        } catch {
            #expect(error.code == .unknownSymbol)
        }
        await anonymous.close()
        let client = try GatewayClient(url: gateway.url, token: { "not-a-token" })
        do {
            _ = try await client.userEvents()
            Issue.record("a bad token was accepted")
        } catch {
            #expect(error.code == .unauthorized)
            if case .connectRefused(let namespace, _, _) = error { #expect(namespace == "/user") }
        }
        await client.close()

        let nobody = try GatewayClient(url: "http://127.0.0.1:\(try freePort())", options: .init(connectTimeout: .seconds(3)))
        do {
            _ = try await nobody.prices(["BTC/USDT"])
            Issue.record("connected to nothing")
        } catch {
            if case .notConnected(let problem) = error { #expect(problem.contains("cannot reach")) } else { Issue.record("\(error)") }
        }
        await nobody.close()
    }

    @Test("auth.expiring makes the client send a fresh token from its provider; /user stays up past the first token's expiry")
    func tokenRefresh() async throws {
        let gateway = try await GatewayProcess.launch(
            environment: ["JWT_SECRET": Self.secret, "LOG_LEVEL": "warning"],
            edits: ["expiryWarningSeconds: 30": "expiryWarningSeconds: 6", "leewaySeconds: 5": "leewaySeconds: 0"]
        )
        let first = try Self.token("refreshing-user", ttl: 8)
        let later = try Self.token("refreshing-user", ttl: 3600)
        let asked = Counter()
        let client = try GatewayClient(url: gateway.url, token: { asked.next() == 0 ? first : later })
        let events = Recorder(try await client.userEvents())
        #expect(await eventually(timeout: .seconds(8)) { await client.statistics.tokenRefreshes == 1 })
        try await Task.sleep(for: .seconds(7))  // past the first token's expiry
        try await Self.publish(gateway, user: "refreshing-user", number: 1)
        #expect(await events.waitFor(1))
        #expect(Self.numbers(events.all) == [1])
        let statistics = await client.statistics
        #expect(statistics.connections == 1 && statistics.recoveryFailures == 0, "no reconnect was needed")
        await client.close()
    }

    @Test("a network blip: the client reconnects, recovers every missed /user event once and in order, and rebuilds the book")
    func blip() async throws {
        let gateway = try await Self.gateway()
        let proxy = try await TCPProxy(targetPort: gateway.port)
        defer { proxy.shutdown() }
        let token = try Self.token("blip-user")
        // A short request timeout, outlived before the cut: answered requests' timers must not
        // undo anything later (one once dropped a joined namespace, so the client joined twice).
        let options = GatewayClient.Options(reconnect: .init(initialDelay: .milliseconds(300)), requestTimeout: .seconds(1))
        let client = try GatewayClient(url: proxy.url, options: options, token: { token })
        let events = Recorder(try await client.userEvents())
        let books = Recorder(try await client.book("ETH/USDT", cadence: .raw))
        let trades = Recorder(try await client.trades("ETH/USDT"))
        for number in 1...3 { try await Self.publish(gateway, user: "blip-user", number: number) }
        #expect(await events.waitFor(3))
        try await Task.sleep(for: .milliseconds(1500))

        proxy.sever()
        #expect(await eventually { await client.state != .connected })
        for number in 4...8 { try await Self.publish(gateway, user: "blip-user", number: number) }
        #expect(await eventually { await client.state == .connected })
        for number in 9...10 { try await Self.publish(gateway, user: "blip-user", number: number) }

        #expect(await events.waitFor(10))
        try await Task.sleep(for: .milliseconds(300))
        #expect(Self.numbers(events.all) == Array(1...10), "every event once, in order")
        #expect(!events.all.contains(.recoveryFailed))
        let before = books.count
        #expect(await books.waitFor(before + 5), "the book streams again after the reconnect")
        _ = trades
        try await Task.sleep(for: .milliseconds(1500))
        #expect(await client.state == .connected, "the new connection stays up")
        let statistics = await client.statistics
        #expect(statistics.connections == 2 && statistics.recoveries == 1 && statistics.recoveryFailures == 0)
        #expect(statistics.checksumMismatches == 0)
        await client.close()
    }

    @Test("the gateway killed mid-stream and restarted: the client reconnects, resubscribes, rebuilds the book and says /user state was lost")
    func restart() async throws {
        let gateway = try await Self.gateway()
        let token = try Self.token("restart-user")
        let client = try GatewayClient(url: gateway.url, options: .init(reconnect: .init(initialDelay: .milliseconds(200), maximumDelay: .seconds(1))), token: { token })
        let prices = Recorder(try await client.prices(["SOL/USDT"]))
        let books = Recorder(try await client.book("SOL/USDT", cadence: .raw))
        let events = Recorder(try await client.userEvents())
        try await Self.publish(gateway, user: "restart-user", number: 1)
        #expect(await events.waitFor(1))
        #expect(await books.waitFor(3))

        let states = Recorder(await client.states())
        await gateway.kill()
        #expect(await eventually { await client.state != .connected })
        let (pricesBefore, booksBefore) = (prices.count, books.count)
        try await gateway.start()
        #expect(await eventually(timeout: .seconds(15)) { await client.state == .connected }, "\(states.all)")
        #expect(await prices.waitFor(pricesBefore + 3), "prices flow again without subscribing by hand")
        #expect(await books.waitFor(booksBefore + 5), "the book is rebuilt from a new snapshot and verified")
        // The restarted gateway has no memory of the session: the stream says so, then goes on.
        #expect(await events.waitFor(2))
        #expect(events.all.last == .recoveryFailed)
        try await Self.publish(gateway, user: "restart-user", number: 2)
        #expect(await events.waitFor(3))
        #expect(Self.numbers(events.all) == [1, 2])
        let statistics = await client.statistics
        #expect(statistics.connections >= 2 && statistics.recoveryFailures == 1 && statistics.checksumMismatches == 0)
        await client.close()
    }
}
