import NIOCore

/// HTTP long-polling bodies in Engine.IO v4: packets joined by the record separator 0x1E.
public enum PollingPayload {
    public static let recordSeparator: UInt8 = 0x1E

    /// Splits a POST body into packets. `limit` caps the record count so a hostile body cannot
    /// make the server allocate without bound.
    public static func decode(_ body: ByteBuffer, maximumPackets: Int = 10_000) throws(CodecError) -> [EnginePacket] {
        let result = body.withUnsafeReadableBytes { raw -> Result<[EnginePacket], CodecError> in
            let bytes = raw.bindMemory(to: UInt8.self)
            var packets: [EnginePacket] = []
            var start = 0
            do throws(CodecError) {
                for index in 0...bytes.count where index == bytes.count || bytes[index] == recordSeparator {
                    guard packets.count < maximumPackets else {
                        throw CodecError(.tooManyPackets, "more than \(maximumPackets) packets in one payload")
                    }
                    packets.append(try EnginePacket.decode(utf8: UnsafeBufferPointer(rebasing: bytes[start..<index])))
                    start = index + 1
                }
                return .success(packets)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Joins packets into one response body.
    public static func encode(_ packets: some Sequence<EnginePacket>, into buffer: inout ByteBuffer) {
        var first = true
        for packet in packets {
            if !first { buffer.writeInteger(recordSeparator) }
            first = false
            buffer.writeString(packet.encodedText)
        }
    }
}
