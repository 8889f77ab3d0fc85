import NIOCore

/// Byte-level reads of a frame's payload where it lies in the inbound buffer: a prefix check
/// and the send time, without making a String per delivery.
extension ByteBuffer {
    private static let tsMarker = Array(#""ts":"#.utf8)

    func hasPrefix(_ prefix: [UInt8], at index: Int, length: Int) -> Bool {
        guard length >= prefix.count else { return false }
        return withUnsafeReadableBytes { raw in
            let base = index - readerIndex
            for position in 0..<prefix.count where raw[base + position] != prefix[position] { return false }
            return true
        }
    }

    /// The decimal digits at `index`, if any.
    func unsignedInteger(at index: Int) -> UInt64? {
        var value: UInt64 = 0
        var position = index
        while let digit = getInteger(at: position, as: UInt8.self), digit >= 48, digit <= 57 {
            value = value &* 10 &+ UInt64(digit - 48)
            position += 1
        }
        return position > index ? value : nil
    }

    /// The number after the last `"ts":` in `range` (the feed's ms since the epoch; the gateway
    /// writes it last, so the search from the end is short).
    func lastTimestamp(in range: Range<Int>) -> UInt64? {
        let marker = Self.tsMarker
        return withUnsafeReadableBytes { raw -> UInt64? in
            let lower = range.lowerBound - readerIndex
            var position = range.upperBound - readerIndex - marker.count
            while position >= lower {
                if raw[position] == marker[0], (0..<marker.count).allSatisfy({ raw[position + $0] == marker[$0] }) { break }
                position -= 1
            }
            guard position >= lower else { return nil }
            var value: UInt64 = 0
            var cursor = position + marker.count
            let end = range.upperBound - readerIndex
            while cursor < end, raw[cursor] >= 48, raw[cursor] <= 57 {
                value = value &* 10 &+ UInt64(raw[cursor] - 48)
                cursor += 1
            }
            return cursor > position + marker.count ? value : nil
        }
    }
}
