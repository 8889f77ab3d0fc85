/// Random identifiers (Engine.IO `sid`, Socket.IO socket ids, recovery `pid`s): 20 characters of
/// the URL-safe base64 alphabet, 120 bits from the system's CSPRNG. A sid is a polling client's
/// only credential for its session, so it must not be guessable.
public enum SessionID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func make() -> String {
        // Two 64-bit draws give the 120 bits, from a pool the kernel refills 4 KiB at a time.
        var high = RandomBytePool.shared.next()
        var low = RandomBytePool.shared.next()
        return String(unsafeUninitializedCapacity: 20) { buffer in
            for index in 0..<10 {
                buffer[index] = alphabet[Int(high & 63)]
                high >>= 6
                buffer[10 + index] = alphabet[Int(low & 63)]
                low >>= 6
            }
            return 20
        }
    }
}
