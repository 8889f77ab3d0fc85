import CompressNIO
import NIOCore
import Testing
@testable import WireCompression

@Suite("HTTP content coding")
struct HTTPContentCodingTests {
    @Test("Accept-Encoding picks the coding", arguments: [
        ("gzip, deflate, br", HTTPContentCoding.gzip),
        ("deflate", .deflate),
        ("br, deflate;q=0.5, gzip;q=0.4", .deflate),
        ("gzip;q=0, deflate", .deflate),
        ("*", .gzip),
        ("*;q=0, deflate", .deflate),
        ("GZIP ; Q=0.8", .gzip),
    ] as [(String, HTTPContentCoding)])
    func chosen(header: String, coding: HTTPContentCoding) {
        #expect(HTTPContentCoding.preferred(acceptEncoding: [header]) == coding)
    }

    @Test("no coding when none is acceptable", arguments: ["", "identity", "br", "gzip;q=0", "*;q=0", "gzip;q=abc"])
    func none(header: String) {
        #expect(HTTPContentCoding.preferred(acceptEncoding: [header]) == nil)
    }

    @Test("bodies compress to what zlib reads back, in both codings, again and again")
    func roundTrip() throws {
        let compressor = HTTPBodyCompressor(level: 6)
        let body = String(repeating: #"42/prices,["price.update",{"symbol":"ETH-USD","price":"3120.55"}]"#, count: 40)
        for coding in HTTPContentCoding.allCases {
            for _ in 0..<3 {
                var compressed = try compressor.compress(ByteBuffer(string: body), as: coding)
                #expect(compressed.readableBytes < body.utf8.count / 4)
                if coding == .gzip { #expect(compressed.getBytes(at: compressed.readerIndex, length: 2) == [0x1F, 0x8B]) }
                let plain = try compressed.decompress(with: coding == .gzip ? .gzip : .zlib, maxSize: 1 << 20)
                #expect(String(buffer: plain) == body)
            }
        }
    }
}
