#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Bytes from the system's CSPRNG, drawn 4 KiB at a time. Every connection needs random ids (its
/// Engine.IO sid and a socket id per namespace), and one `getrandom` call per 64-bit draw was
/// four system calls per connection; here it is one per 256 draws. The bytes are the kernel's
/// own, handed out once each, so an id is exactly as unguessable as before.
final class RandomBytePool: Sendable {
    static let shared = RandomBytePool()

    private static let size = 4096
    private let state = Mutex<(bytes: [UInt8], used: Int)>(([UInt8](repeating: 0, count: RandomBytePool.size), RandomBytePool.size))

    /// The next 64 random bits.
    func next() -> UInt64 {
        state.withLock { state in
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
        // glibc ≥ 2.36 (Debian 12) and Darwin: the kernel's CSPRNG (getrandom on Linux).
        arc4random_buf(buffer.baseAddress!, buffer.count)
    }
}
