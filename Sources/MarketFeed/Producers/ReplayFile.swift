import GatewayJSON

/// A JSON Lines file of feed messages for `feed.source: replay`: every line is validated like any
/// producer message; bad lines are skipped and reported (never applied). Timing comes from `ts`.
public struct ReplayFile: Sendable {
    public struct Entry: Sendable {
        /// Milliseconds after the first message.
        public let offsetMs: Double
        public let message: FeedMessage
    }

    public let entries: [Entry]
    /// Skipped lines: (line number, why).
    public let rejected: [(line: Int, error: FeedError)]

    public init(text: String, parser: FeedParser) {
        var entries: [Entry] = []
        var rejected: [(Int, FeedError)] = []
        var firstTs: Double?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do throws(FeedError) {
                let message = try parser.parse(text: String(trimmed))
                let ts = message.timestamp ?? firstTs ?? 0
                let start = firstTs ?? ts
                firstTs = start
                entries.append(Entry(offsetMs: max(0, ts - start), message: message))
            } catch {
                rejected.append((index + 1, error))
            }
        }
        self.entries = entries
        self.rejected = rejected
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" || first == "\r" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" { slice.removeLast() }
        return slice
    }
}

extension FeedMessage {
    /// `ts` as a number, when the message has one.
    public var timestamp: Double? {
        let ts: JSONValue?
        switch self {
        case .tick(let tick): ts = tick.ts
        case .trade(let trade): ts = trade.ts
        case .depth(let depth): ts = depth.ts
        case .ticker(_, let payload), .stats(_, let payload): ts = payload["ts"]
        case .status(_, _, let value): ts = value
        }
        if case .number(let text)? = ts { return Double(text) }
        return nil
    }
}
