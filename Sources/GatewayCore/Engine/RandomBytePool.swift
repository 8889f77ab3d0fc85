#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers

/// Bytes from the system's CSPRNG, drawn 256 at a time. Every connection needs random ids (its
/// Engine.IO sid and a socket id per namespace), and one `getrandom` call per 64-bit draw was
/// four system calls per connection; here it is one per 32 draws. The bytes are the kernel's
/// own, handed out once each, so an id is exactly as unguessable as before.
final class RandomBytePool: Sendable {
    static let shared = RandomBytePool()

    /// `getentropy`'s most per call.
    private static let size = 256
    private let state = NIOLockedValueBox<(bytes: [UInt8], used: Int)>(([UInt8](repeating: 0, count: RandomBytePool.size), RandomBytePool.size))

    /// The next 64 random bits.
    func next() -> UInt64 {
        state.withLockedValue { state in
            if state.used + 8 > Self.size {
                state.bytes.withUnsafeMutableBytes { Self.fill($0) }
                state.used = 0
            }
            var value: UInt64 = 0
            for index in state.used..<state.used + 8 { value = value << 8 | UInt64(state.bytes[index]) }
            state.used += 8
            return value
        }
    }

    private static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        // The kernel's CSPRNG (getrandom on Linux; glibc ≥ 2.25, musl and Darwin have it).
        guard getentropy(buffer.baseAddress!, buffer.count) == 0 else {
            fatalError("getentropy failed (errno \(errno)): no source of randomness for session ids")
        }
    }
}
