/// Recovery offsets in cluster mode are the ids Redis gives entries of a user's stream
/// (`<milliseconds>-<sequence>`), packed into one rising number: that is what clients see and
/// send back, and what the recovery log compares. 20 bits of sequence is a million events of
/// one user in one millisecond.
enum StreamOffset {
    private static let sequenceBits: UInt64 = 20
    private static let sequenceMask: UInt64 = (1 << sequenceBits) - 1

    /// nil for anything that is not a stream id.
    static func pack(_ id: String) -> UInt64? {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let milliseconds = UInt64(parts[0]), let sequence = UInt64(parts[1]),
            milliseconds < (1 << (64 - sequenceBits))
        else { return nil }
        return milliseconds << sequenceBits | min(sequence, sequenceMask)
    }

    static func unpack(_ offset: UInt64) -> String {
        "\(offset >> sequenceBits)-\(offset & sequenceMask)"
    }
}
