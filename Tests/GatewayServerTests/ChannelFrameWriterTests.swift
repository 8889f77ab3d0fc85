import GatewayCore
import NIOCore
import NIOEmbedded
import Testing

@testable import GatewayServer

@Suite("The channel frame writer")
struct ChannelFrameWriterTests {
    @Test("frames of one tick reach the socket as one write, in order; nothing before the flush")
    func joinsFramesPerFlush() throws {
        let channel = EmbeddedChannel()
        let writer = ChannelFrameWriter(channel: channel)
        for text in ["a", "bb", "ccc"] { writer.write(EncodedFrame(text: text).frame) }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        writer.flush()
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "one write")
        var expected = EncodedFrame(text: "a").frame
        expected.writeImmutableBuffer(EncodedFrame(text: "bb").frame)
        expected.writeImmutableBuffer(EncodedFrame(text: "ccc").frame)
        #expect(written == expected)
    }

    @Test("a lone frame is written as it is, sharing the broadcast's bytes")
    func loneFrameByReference() throws {
        let channel = EmbeddedChannel()
        let writer = ChannelFrameWriter(channel: channel)
        let frame = EncodedFrame(text: "shared").frame
        writer.write(frame)
        writer.flush()
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(written == frame)
        written.withUnsafeReadableBytes { writtenBytes in
            frame.withUnsafeReadableBytes { frameBytes in #expect(writtenBytes.baseAddress == frameBytes.baseAddress) }
        }
    }

    @Test("joined bytes past the limit go out without waiting for the flush")
    func pendingLimit() throws {
        let channel = EmbeddedChannel()
        let writer = ChannelFrameWriter(channel: channel)
        let big = EncodedFrame(text: String(repeating: "x", count: 40 * 1024)).frame
        writer.write(big)
        writer.write(big)
        // Emitted but not flushed: EmbeddedChannel only shows flushed writes.
        channel.flush()
        #expect(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes == 2 * big.readableBytes)
    }

    @Test("a graceful close sends what was written, then a 1000 close frame, then closes; abort just closes")
    func closing() throws {
        let channel = EmbeddedChannel()
        let writer = ChannelFrameWriter(channel: channel)
        writer.write(EncodedFrame(text: "bye").frame)
        writer.closeGracefully()
        #expect(try channel.readOutbound(as: ByteBuffer.self) == EncodedFrame(text: "bye").frame)
        let close = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(close.readableBytesView) == [0x88, 2, 0x03, 0xE8])
        #expect(!channel.isActive)
        let other = EmbeddedChannel()
        ChannelFrameWriter(channel: other).abort()
        #expect(!other.isActive)
        #expect(try other.readOutbound(as: ByteBuffer.self) == nil)
    }
}
