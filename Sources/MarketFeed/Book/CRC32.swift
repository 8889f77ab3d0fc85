/// CRC-32 (IEEE 802.3, the one zlib and most exchanges use), table-driven.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    public static func checksum<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt32 {
        var running = Running()
        running.add(bytes)
        return running.value
    }

    /// A CRC fed piece by piece (no need to join the pieces first).
    public struct Running {
        private var crc: UInt32 = 0xFFFF_FFFF

        public init() {}

        public mutating func add<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
            // Contiguous bytes (every native or small String's UTF-8) in one tight loop: the
            // checksum of the top 10 levels is paid on every book update.
            let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
                CRC32.table.withUnsafeBufferPointer { table in
                    var crc = self.crc
                    for byte in buffer { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
                    self.crc = crc
                }
            }
            if done != nil { return }
            for byte in bytes { crc = CRC32.table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }

        public var value: UInt32 { crc ^ 0xFFFF_FFFF }
    }
}
