import GatewayCore
import NIOCore
import Testing

@Suite("Pre-encoded WebSocket frames")
struct EncodedFrameTests {
    @Test("header length follows the payload size", arguments: [(0, 2), (125, 2), (126, 4), (65_535, 4), (65_536, 10)])
    func headerSizes(payload: Int, header: Int) {
        let frame = EncodedFrame(text: String(repeating: "a", count: payload))
        #expect(frame.headerLength == header)
        #expect(frame.byteCount == payload + header)
        #expect(frame.payload.readableBytes == payload)
    }

    @Test("text frames are unmasked FIN text frames carrying the packet text")
    func textBytes() {
        let frame = EncodedFrame(text: "42[\"a\"]")
        #expect(Array(frame.frame.readableBytesView) == [0x81, 7] + Array("42[\"a\"]".utf8))
        #expect(String(buffer: frame.payload) == "42[\"a\"]")
    }

    @Test("binary frames carry the raw bytes (no Engine.IO type byte in v4)")
    func binaryBytes() {
        let frame = EncodedFrame(binary: ByteBuffer(bytes: [1, 2, 3, 4]))
        #expect(Array(frame.frame.readableBytesView) == [0x82, 4, 1, 2, 3, 4])
        #expect(Array(frame.payload.readableBytesView) == [1, 2, 3, 4])
    }
}
