import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GatewayClient
import Testing

@Suite("The client over permessage-deflate", .serialized)
struct DeflateAgainstGatewayTests {
    /// The gateway's metrics text, for what a client cannot see from inside.
    static func metric(_ gateway: GatewayProcess, _ name: String) async throws -> Double? {
        let (data, _) = try await URLSession.shared.data(from: URL(string: gateway.url + "/metrics")!)
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }

    @Test("the client offers deflate; with every message compressed (threshold 0) prices and verified books stream as before")
    func everythingCompressed() async throws {
        let gateway = try await GatewayProcess.launch(environment: ["JWT_SECRET": "client-test-secret-0123456789abcd", "LOG_LEVEL": "warning", "COMPRESSION_THRESHOLD": "0"])
        let client = try GatewayClient(url: gateway.url)
        let prices = Recorder(try await client.prices(["BTC/USDT"]))
        let books = Recorder(try await client.book("BTC/USDT", cadence: .raw))
        #expect(await prices.waitFor(10))
        #expect(await books.waitFor(20))
        for book in books.all {
            #expect(LocalOrderBook.checksum(bids: book.bids, asks: book.asks) == book.checksum)
        }
        #expect(try await Self.metric(gateway, "gateway_websocket_deflate_connections") == 1, "the gateway agreed to deflate with this client")
        let statistics = await client.statistics
        #expect(statistics.checksumMismatches == 0 && statistics.bookGaps == 0 && statistics.connections == 1)
        await client.close()
        await gateway.kill()
    }
}
