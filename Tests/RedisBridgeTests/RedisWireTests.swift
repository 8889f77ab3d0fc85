@testable import RedisBridge
import Testing

@Suite("Redis wire format through hiredis")
struct RedisWireTests {
    @Test("commands are formatted as RESP arrays of bulk strings, binary-safe")
    func format() {
        let bytes = RedisWire.format(["XADD", "ws:user-events", "*", "data", "{\"a\":\"é\"}"])
        let expected = "*5\r\n$4\r\nXADD\r\n$14\r\nws:user-events\r\n$1\r\n*\r\n$4\r\ndata\r\n$10\r\n{\"a\":\"é\"}\r\n"
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }

    @Test("replies arriving in pieces are returned whole, nested arrays included")
    func readPieces() throws {
        let reader = RedisReplyReader()
        let text = "+OK\r\n:42\r\n$-1\r\n-ERR wrong\r\n*2\r\n$7\r\nmessage\r\n*1\r\n$3\r\nabc\r\n"
        var replies: [RedisReply] = []
        for byte in Array(text.utf8) {
            try [byte].withUnsafeBytes { try reader.feed($0) }
            while let reply = try reader.next() { replies.append(reply) }
        }
        #expect(replies == [
            .status("OK"), .integer(42), .null, .error("ERR wrong"),
            .array([.string(Array("message".utf8)), .array([.string(Array("abc".utf8))])]),
        ])
    }

    @Test("an error reply is typed: NOSCRIPT means the scripts must be loaded again, anything else is the server's error")
    func errorKinds() {
        #expect(RedisError.reply("NOSCRIPT No matching script. Please use EVAL.").kind == .noScript)
        #expect(RedisError.reply("ERR wrong number of arguments").kind == .server)
        #expect(RedisError.reply("WRONGTYPE Operation against a key holding the wrong kind of value").kind == .server)
    }

    @Test("bytes that are not RESP are a protocol error, not a crash")
    func garbage() throws {
        let reader = RedisReplyReader()
        try Array("?what\r\n".utf8).withUnsafeBytes { try reader.feed($0) }
        #expect(throws: RedisError.self) { try reader.next() }
    }
}

@Suite("REDIS_URL")
struct RedisAddressTests {
    @Test("host, port, database and credentials are read from the URL")
    func parse() {
        #expect(RedisAddress(url: "redis://127.0.0.1:6380/2") == RedisAddress(host: "127.0.0.1", port: 6380, database: 2, username: nil, password: nil))
        let full = RedisAddress(url: "redis://app:s3cret@cache.internal")
        #expect(full?.host == "cache.internal" && full?.port == 6379 && full?.username == "app" && full?.password == "s3cret")
        #expect(RedisAddress(url: "redis://:pw@[::1]:7000")?.host == "::1")
        #expect(full?.description == "redis://cache.internal:6379/0", "the password never shows in logs")
    }

    @Test("malformed URLs are refused", arguments: ["http://x", "redis://", "redis://host:0", "redis://host:port", "redis://host/db"])
    func refused(url: String) {
        #expect(RedisAddress(url: url) == nil)
    }
}
