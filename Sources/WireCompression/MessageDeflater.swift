import CompressNIO
import NIOCore

/// Compresses one WebSocket message payload for permessage-deflate (RFC 7692 §7.2.1) with no
/// context takeover: every message starts from an empty window, so the same compressed bytes
/// are valid for every socket that negotiated the extension, and a broadcast is compressed once.
/// Not thread-safe: one deflater per thread at a time (``DeflaterPool``).
public final class MessageDeflater {
    private let compressor: ZlibCompressor

    /// `level`: zlib's 1 (fastest) … 9 (smallest); 6 is zlib's default.
    public init(level: Int) throws(CompressionError) {
        do {
            compressor = try ZlibCompressor(
                algorithm: .deflate,
                configuration: ZlibConfiguration(windowSize: 15, compressionLevel: Int32(max(1, min(9, level))), memoryLevel: 8)
            )
        } catch {
            throw .unavailable
        }
    }

    /// The compressed payload, without the trailing `00 00 ff ff` the receiver adds back.
    public func deflate(_ payload: ByteBuffer, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(CompressionError) -> ByteBuffer {
        defer { try? compressor.reset() }
        var input = payload
        var output = allocator.buffer(capacity: compressor.maxSize(from: input))
        do {
            try compressor.deflate(from: &input, to: &output, flush: .sync)
        } catch {
            throw .unavailable
        }
        // A sync flush ends with an empty stored block, 00 00 ff ff: §7.2.1 removes it.
        if output.readableBytes >= 4, output.getInteger(at: output.writerIndex - 4, as: UInt32.self) == 0x0000_FFFF {
            output.moveWriterIndex(to: output.writerIndex - 4)
        }
        return output
    }
}
