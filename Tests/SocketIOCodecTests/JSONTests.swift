import GatewayJSON
import Testing
@testable import SocketIOCodec

@Suite("JSON values")
struct JSONTests {
    @Test("round trips keep key order, number text and booleans", arguments: [
        #"{"b":1,"a":[true,false,null],"c":{"3":[true]}}"#,
        #"[1,"2",{"3":[false]}]"#,
        #"{"price":"64000.10","qty":0.00100,"ts":1718000000123.456}"#,
        #""a/b""#,
        #"-0.5e-10"#,
        #"[]"#,
        #"{}"#,
    ])
    func roundTrip(text: String) throws {
        let value = try JSONParser.parse(text)
        #expect(JSONSerializer.serialize(value) == text)
    }

    @Test("whitespace is accepted on input and never written")
    func whitespace() throws {
        let value = try JSONParser.parse(" { \"a\" : [ 1 , 2 ] } ")
        #expect(JSONSerializer.serialize(value) == #"{"a":[1,2]}"#)
    }

    @Test("escapes decode and control characters re-encode")
    func escapes() throws {
        let value = try JSONParser.parse(#""q\"b\\s\/n\nt\tu\u00e9\ud83d\ude00\u001e""#)
        #expect(value == .string("q\"b\\s/n\nt\tu\u{e9}\u{1F600}\u{1E}"))
        #expect(JSONSerializer.serialize(value) == #""q\"b\\s/n\nt\tu\#u{e9}\#u{1F600}\u001e""#)
    }

    @Test("malformed JSON is rejected with a typed error", arguments: [
        "", "{", "[1,]", "{\"a\"}", "01", "1.", "tru", "\"abc", "[1 2]", "{'a':1}", "\"\u{01}\"",
        "\"\\ud800\"", "\"\\x\"", "[1]x", "nan", "-", "1e",
    ])
    func malformed(text: String) {
        #expect(throws: JSONError("")) { try JSONParser.parse(text) }
    }

    @Test("nesting past the cap is refused instead of exhausting the stack")
    func deepNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONError("")) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect(throws: Never.self) { try JSONParser.parse(fine) }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSONError("")) { try JSONParser.parse(bytes) }
        // A lone continuation byte, a truncated sequence, an overlong encoding.
        // …and the same before an escape (the escape path validates at the end of the string).
        for bad: [UInt8] in [[0x22, 0x80, 0x22], [0x22, 0x61, 0xE6, 0x97, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0x80, 0x5C, 0x6E, 0x22]] {
            #expect(throws: JSONError("")) { try JSONParser.parse(bad) }
        }
    }

    @Test("ASCII and non-ASCII strings come back exactly as sent")
    func stringsRoundTrip() throws {
        for text in ["BTC/USDT", "64000.10", "", "héllo", "日本語", "a🙂b", "mixed ascii then ü"] {
            let parsed = try JSONParser.parse(Array("[\"\(text)\"]".utf8))
            #expect(parsed == .array([.string(text)]))
        }
        // An escape after non-ASCII text.
        #expect(try JSONParser.parse(Array(#"["ü\n\u00e9"]"#.utf8)) == .array([.string("ü\né")]))
    }
}
