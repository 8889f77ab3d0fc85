import GatewayCore
import NIOCore
import NIOEmbedded
import Testing

@testable import GatewayServer

@Suite("The channel frame writer")
struct ChannelFrameWriterTests {
    @Test("what the session hands over goes to the socket as it is, sharing the broadcast's bytes, at the flush")
    func writesAsGiven() throws {
        let channel = EmbeddedChannel()
        let writer = ChannelFrameWriter(channel: channel)
        let frame = EncodedFrame(text: "shared").frame
        writer.write(frame)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "nothing before the flush")
        writer.flush()
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(written == frame)
        written.withUnsafeReadableBytes { writtenBytes in
            frame.withUnsafeReadableBytes { frameBytes in #expect(writtenBytes.baseAddress == frameBytes.baseAddress) }
        }
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
