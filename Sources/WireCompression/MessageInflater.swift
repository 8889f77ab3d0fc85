import CompressNIO
import NIOCore

/// Decompresses one permessage-deflate message (RFC 7692 §7.2.2) sent without context takeover
/// (the gateway asks for `client_no_context_takeover`), so one inflater serves every connection
/// of a thread, and a connection holds no zlib state between messages. The output is bounded:
/// a message that inflates past `limit` stops there (a zip bomb costs at most `limit` bytes).
/// Not thread-safe: one per thread.
public final class MessageInflater {
    private let decompressor: ZlibDecompressor
    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]
    /// The sender compresses with context takeover: the window carries from one message to the
    /// next, so this inflater serves one connection and is not reset.
    private let keepsContext: Bool

    public init(keepsContext: Bool = false) throws(CompressionError) {
        self.keepsContext = keepsContext
        do {
            decompressor = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
        } catch {
            throw .unavailable
        }
    }

    public func inflate(_ message: ByteBuffer, limit: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(CompressionError) -> ByteBuffer {
        defer { if !keepsContext { try? decompressor.reset() } }
        var input = allocator.buffer(capacity: message.readableBytes + Self.tail.count)
        input.writeImmutableBuffer(message)
        input.writeBytes(Self.tail)
        // Starts small (most messages are small) and doubles, never past limit + 1 bytes.
        var output = allocator.buffer(capacity: min(limit + 1, max(256, message.readableBytes * 4)))
        while true {
            do {
                try decompressor.inflate(from: &input, to: &output)
                break  // all input used, or the stream's final block reached
            } catch let error as CompressNIOError where error == .bufferOverflow {
                guard output.readableBytes <= limit, output.capacity <= limit else { throw .tooLarge(limit: limit) }
                output.reserveCapacity(min(limit + 1, output.capacity * 2))
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                break  // no further input: what arrived is the message
            } catch let error as CompressNIOError where error == .corruptData {
                throw .corrupt
            } catch {
                throw .unavailable
            }
        }
        guard output.readableBytes <= limit else { throw .tooLarge(limit: limit) }
        return output
    }
}

extension MessageInflater: @unchecked Sendable {}  // kept per thread (one user at a time)
