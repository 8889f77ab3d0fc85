import CompressNIO
import NIOCore

/// The content codings the gateway compresses HTTP bodies with (polling responses), chosen by
/// the request's `Accept-Encoding` (RFC 9110 §12.5.3). `deflate` in HTTP is the zlib format.
public enum HTTPContentCoding: String, Sendable, CaseIterable {
    case gzip
    case deflate

    /// The coding to answer with, or nil for the body as it is. The highest `q` wins, gzip on a
    /// tie; `q=0` refuses a coding, and `*` stands for any coding not named.
    public static func preferred(acceptEncoding headerValues: [String]) -> HTTPContentCoding? {
        var weights: [String: Double] = [:]
        for item in HeaderLists.items(headerValues) {
            let parts = item.split(separator: ";")
            guard let name = parts.first.map({ HeaderLists.trimmed($0).lowercased() }), !name.isEmpty else { continue }
            var weight = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map(HeaderLists.trimmed)
                if pair.count == 2, pair[0].lowercased() == "q" { weight = Double(pair[1]).map { min(1, max(0, $0)) } ?? 0 }
            }
            weights[name] = max(weights[name] ?? 0, weight)
        }
        let wildcard = weights["*"]
        let choices = allCases.compactMap { coding -> (HTTPContentCoding, Double)? in
            guard let weight = weights[coding.rawValue] ?? wildcard, weight > 0 else { return nil }
            return (coding, weight)
        }
        return choices.max { $0.1 < $1.1 }?.0  // the first of equals: gzip
    }
}

/// Compresses whole HTTP bodies, reusing zlib streams across requests (a ``ZlibPool`` per
/// coding, at most `capacity` idle streams each).
public final class HTTPBodyCompressor: Sendable {
    private let gzip: ZlibPool<ZlibCompressor>
    private let zlib: ZlibPool<ZlibCompressor>

    public init(level: Int, capacity: Int = 4) {
        let configuration = ZlibConfiguration(windowSize: 15, compressionLevel: Int32(max(1, min(9, level))), memoryLevel: 8)
        func pool(_ algorithm: ZlibAlgorithm) -> ZlibPool<ZlibCompressor> {
            ZlibPool(capacity: capacity) { () throws(CompressionError) in
                do {
                    return try ZlibCompressor(algorithm: algorithm, configuration: configuration)
                } catch {
                    throw .unavailable
                }
            }
        }
        gzip = pool(.gzip)
        zlib = pool(.zlib)
    }

    public func compress(_ body: ByteBuffer, as coding: HTTPContentCoding, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(CompressionError) -> ByteBuffer {
        try (coding == .gzip ? gzip : zlib).withStream { compressor throws(CompressionError) in
            defer { try? compressor.reset() }
            var input = body
            var output = allocator.buffer(capacity: compressor.maxSize(from: input))
            do {
                try compressor.deflate(from: &input, to: &output, flush: .finish)
            } catch {
                throw .unavailable
            }
            return output
        }
    }
}

extension ZlibCompressor: @retroactive @unchecked Sendable {}  // one user at a time: the pool's lock hands it over
