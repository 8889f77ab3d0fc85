import NIOCore
import Testing
@testable import WireCompression

@Suite("permessage-deflate messages")
struct MessageCompressionTests {
    let hello: [UInt8] = Array("Hello".utf8)

    @Test("RFC 7692 §7.2.3 examples inflate to Hello", arguments: [
        [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00] as [UInt8],  // fixed Huffman, sync-flush tail removed
        [0x00, 0x05, 0x00, 0xFA, 0xFF, 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00],  // a stored block
        [0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00],  // BFINAL set
    ])
    func rfcExamples(bytes: [UInt8]) throws {
        let inflated = try MessageInflater().inflate(ByteBuffer(bytes: bytes), limit: 100)
        #expect(Array(inflated.readableBytesView) == hello)
    }

    @Test("Hello deflates to the RFC's bytes, without the 00 00 ff ff tail")
    func deflateHello() throws {
        let deflated = try MessageDeflater(level: 6).deflate(ByteBuffer(bytes: hello))
        #expect(Array(deflated.readableBytesView) == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
    }

    @Test("market data round-trips, smaller, and each message stands alone (no context takeover)")
    func roundTrip() throws {
        let deflater = try MessageDeflater(level: 6)
        let inflater = try MessageInflater()
        let tick = #"42/prices,["price.update",{"symbol":"BTC-USD","price":"64123.50","bid":"64123.00","ask":"64124.00","volume":"12.5","ts":1765000000000}]"#
        let depth = "42/market,[\"market.depth\",{\"symbol\":\"BTC-USD\",\"bids\":[" + (0..<200).map { "[\"\(64000 - $0).50\",\"\($0 % 7).25\"]" }.joined(separator: ",") + "]}]"
        for text in [tick, depth, tick] {
            let deflated = try deflater.deflate(ByteBuffer(string: text))
            #expect(deflated.readableBytes < text.utf8.count)
            // A fresh inflater (another socket) reads it: nothing depends on earlier messages.
            #expect(String(buffer: try MessageInflater().inflate(deflated, limit: 1 << 20)) == text)
            #expect(String(buffer: try inflater.inflate(deflated, limit: 1 << 20)) == text)
        }
    }

    @Test("a zip bomb stops at the limit: 16 MB of zeros from a few KB")
    func zipBomb() throws {
        let bomb = try MessageDeflater(level: 9).deflate(ByteBuffer(repeating: 0, count: 16 << 20))
        #expect(bomb.readableBytes < 64 * 1024)
        #expect(throws: CompressionError.tooLarge(limit: 1_000_000)) { try MessageInflater().inflate(bomb, limit: 1_000_000) }
        // The inflater is reset: the next message is read normally.
        let inflater = try MessageInflater()
        _ = try? inflater.inflate(bomb, limit: 1000)
        #expect(Array(try inflater.inflate(ByteBuffer(bytes: [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]), limit: 5).readableBytesView) == hello)
    }

    @Test("a message of exactly the limit passes; one byte more does not")
    func limitIsInclusive() throws {
        let deflated = try MessageDeflater(level: 6).deflate(ByteBuffer(repeating: 0x61, count: 5000))
        #expect(try MessageInflater().inflate(deflated, limit: 5000).readableBytes == 5000)
        #expect(throws: CompressionError.tooLarge(limit: 4999)) { try MessageInflater().inflate(deflated, limit: 4999) }
    }

    @Test("bytes that are not DEFLATE are refused as corrupt")
    func corrupt() {
        #expect(throws: CompressionError.corrupt) { try MessageInflater().inflate(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), limit: 100) }
    }

    @Test("the pool hands out working deflaters from any thread")
    func pool() async throws {
        let pool = DeflaterPool(level: 6)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<16 {
                group.addTask {
                    let text = String(repeating: "tick \(index) ", count: 100)
                    let deflated = try pool.withDeflater { deflater throws(CompressionError) in try deflater.deflate(ByteBuffer(string: text)) }
                    #expect(String(buffer: try MessageInflater().inflate(deflated, limit: 1 << 16)) == text)
                }
            }
            try await group.waitForAll()
        }
    }
}
