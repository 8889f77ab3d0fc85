import CHiredis

/// The only code that calls hiredis: its command formatter and its RESP reply reader. The
/// socket itself is NIO's, so Redis I/O runs on the gateway's event loops without a thread
/// of its own.
enum RedisWire {
    /// One command in RESP (`*N\r\n$len\r\narg\r\n…`).
    static func format(_ arguments: [String]) -> [UInt8] {
        let storage = arguments.map { Array($0.utf8) }
        let lengths = storage.map { $0.count }
        var target: UnsafeMutablePointer<CChar>?
        let length: Int32 = withPointers(storage) { pointers in
            lengths.withUnsafeBufferPointer { lengthBuffer in
                redisFormatCommandArgv(&target, Int32(storage.count), pointers, lengthBuffer.baseAddress)
            }
        }
        guard length > 0, let target else { return [] }
        defer { redisFreeCommand(target) }
        return target.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { Array(UnsafeBufferPointer(start: $0, count: Int(length))) }
    }

    private static func withPointers<R>(_ storage: [[UInt8]], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(storage.count)
        func collect(_ index: Int) -> R {
            if index == storage.count {
                return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
            }
            return storage[index].withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    pointers.append(chars.baseAddress ?? UnsafePointer(bitPattern: 1))
                    return collect(index + 1)
                }
            }
        }
        return collect(0)
    }
}

/// hiredis's incremental RESP parser: feed bytes as they arrive, take whole replies out.
final class RedisReplyReader {
    private let reader: UnsafeMutablePointer<redisReader>

    init() {
        reader = redisReaderCreate()
    }

    deinit { redisReaderFree(reader) }

    func feed(_ bytes: UnsafeRawBufferPointer) throws(RedisError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        if redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) != REDIS_OK {
            throw RedisError(.protocolError, "Redis reader: \(errorText())")
        }
    }

    /// The next complete reply, or nil until more bytes arrive.
    func next() throws(RedisError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
            throw RedisError(.protocolError, "Redis sent something that is not RESP: \(errorText())")
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .string(bytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(value.integer)
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element[index] { items.append(convert(element)) }
            }
            return .array(items)
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    private func errorText() -> String {
        withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
