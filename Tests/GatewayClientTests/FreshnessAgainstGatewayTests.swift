import Foundation
@testable import GatewayClient
import GatewayJSON
import JWTAuth
import Testing

/// `GatewayClient`'s freshness API (docs/market-data.md) against the real `gateway` fed over
/// HTTP: a trading loop that asks ``GatewayClient/requireFresh(_:maxSilence:)`` is refused while
/// the feed is silent or the book is broken, and let through again when they heal.
@Suite("GatewayClient freshness against a running gateway", .serialized)
struct FreshnessAgainstGatewayTests {
    static func feed(_ gateway: GatewayProcess, _ messages: [String]) async throws {
        let token = try ClientAgainstGatewayTests.token("producer", role: .service)
        let (status, data) = try await gateway.http("POST", "/api/v1/market", body: "[" + messages.joined(separator: ",") + "]", token: token)
        guard status == 202 else { throw TestFailure("feeding failed: \(status) \(String(decoding: data, as: UTF8.self))") }
    }

    static func tick(_ ts: Int) -> String {
        #"{"type":"tick","symbol":"BTC/USDT","price":"64000.5","bid":"64000","ask":"64001","volume":"1","ts":\#(ts)}"#
    }

    static func depth(_ kind: String, seq: Int, bids: [(String, String)], ts: Int) -> String {
        let levels = bids.map { #"["\#($0.0)","\#($0.1)"]"# }.joined(separator: ",")
        return #"{"type":"depth","symbol":"BTC/USDT","kind":"\#(kind)","seq":\#(seq),"bids":[\#(levels)],"asks":[["64001","1"]],"ts":\#(ts)}"#
    }

    static func isRefused(_ client: GatewayClient) async -> Bool {
        do {
            try await client.requireFresh("BTC/USDT", maxSilence: .seconds(3))
            return false
        } catch {
            return true
        }
    }

    @Test("stale while the feed is silent, live with its next message; a broken book refuses until its snapshot")
    func freshness() async throws {
        let gateway = try await GatewayProcess.launch(environment: [
            "JWT_SECRET": ClientAgainstGatewayTests.secret, "LOG_LEVEL": "warning", "FEED_SOURCE": "none", "FEED_STALE_AFTER_MS": "1000",
        ])
        let client = try GatewayClient(url: gateway.url, options: .init(bookDepth: 10, heartbeatMs: 1_000))
        try await Self.feed(gateway, [Self.tick(1_000), Self.depth("snapshot", seq: 1, bids: (1...30).map { ("\(64_000 - $0)", "1") }, ts: 1_000)])
        let prices = Recorder(try await client.prices(["BTC/USDT"]))
        let books = Recorder(try await client.book("BTC/USDT", cadence: .raw))
        #expect(await prices.waitFor(1))
        #expect(await books.waitFor(1))
        #expect(books.all.last?.bids.count == 10, "the gateway sent the 10 levels shown, and they verified")
        #expect(await !Self.isRefused(client), "fresh data: the loop may act")

        // Silence: the gateway says the feed is stale; the client refuses to act on it.
        #expect(await eventually(timeout: .seconds(5)) { await client.freshness("BTC/USDT").isStale })
        #expect(await Self.isRefused(client))
        #expect(await client.freshness("BTC/USDT").lastSourceTs == 1_000)
        // Heartbeats keep it heard meanwhile: the link is alive, only the feed is silent.
        try await Task.sleep(for: .seconds(1.5))
        #expect(await client.freshness("BTC/USDT").lastHeard.map { $0.duration(to: .now) < .seconds(1.5) } == true)

        try await Self.feed(gateway, [Self.tick(2_000)])
        #expect(await eventually(timeout: .seconds(5)) { await !client.freshness("BTC/USDT").isStale })
        #expect(await !Self.isRefused(client))

        // A feed gap breaks the book: declared, refused, healed by the next snapshot.
        try await Self.feed(gateway, [Self.depth("delta", seq: 5, bids: [("63999", "0")], ts: 2_100)])
        #expect(await eventually(timeout: .seconds(5)) { await client.freshness("BTC/USDT").isBookStale })
        #expect(await client.freshness("BTC/USDT").gaps.last == DeclaredGap(channel: "depth", fromSeq: 2, toSeq: 4, reason: "feed-gap"))
        #expect(await Self.isRefused(client))
        try await Self.feed(gateway, [Self.depth("snapshot", seq: 6, bids: (1...30).map { ("\(64_000 - $0)", "2") }, ts: 2_200)])
        #expect(await eventually(timeout: .seconds(5)) { await !client.freshness("BTC/USDT").isBookStale })
        #expect(await eventually(timeout: .seconds(5)) { books.all.last?.bids.first?.qty == "2" })
        #expect(await !Self.isRefused(client))
        let statistics = await client.statistics
        #expect(statistics.checksumMismatches == 0, "every depth-10 update verified against the gateway's checksum")
        await client.close()
    }
}
