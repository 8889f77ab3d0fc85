import NIOCore
import Testing

@testable import GatewayCore

@Suite("A tick's frames joined for one write")
struct PendingFramesTests {
    @Test("frames of one tick come out as one buffer, in order; a lone frame is the broadcast's own bytes")
    func joins() throws {
        var pending = PendingFrames()
        let lone = EncodedFrame(text: "shared").frame
        let full = pending.append(lone)
        #expect(!full)
        let taken = pending.take()
        let single = try #require(taken)
        single.withUnsafeReadableBytes { a in lone.withUnsafeReadableBytes { b in #expect(a.baseAddress == b.baseAddress, "no copy") } }
        #expect(pending.isEmpty)
        for text in ["a", "bb", "ccc"] { _ = pending.append(EncodedFrame(text: text).frame) }
        var expected = EncodedFrame(text: "a").frame
        expected.writeImmutableBuffer(EncodedFrame(text: "bb").frame)
        expected.writeImmutableBuffer(EncodedFrame(text: "ccc").frame)
        let joined = pending.take()
        #expect(joined == expected)
        let again = pending.take()
        #expect(again == nil, "handed out once")
    }

    @Test("joined bytes past the limit ask to go out before the flush")
    func limit() {
        var pending = PendingFrames()
        let big = EncodedFrame(text: String(repeating: "x", count: 40 * 1024)).frame
        let first = pending.append(big)
        let second = pending.append(big)
        #expect(!first)
        #expect(second)
    }
}
