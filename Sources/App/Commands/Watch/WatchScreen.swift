import Foundation
import GatewayClient
import GatewayJSON

/// Lays a ``WatchState`` out as lines for a terminal of a given width: a header with the
/// connection, a price table, the focused symbol's depth ladder and its last trades, and the
/// user's events when watching `/user`.
enum WatchScreen {
    static let green = "\u{1B}[32m", red = "\u{1B}[31m", dim = "\u{1B}[2m", bold = "\u{1B}[1m", reset = "\u{1B}[0m"

    static func lines(_ state: WatchState, url: String, depth: Int, showUser: Bool, columns: Int, color: Bool) -> [String] {
        func paint(_ text: String, _ code: String) -> String { color ? code + text + reset : text }
        var lines: [String] = []
        let connection: String
        switch state.connection {
        case .connected: connection = paint("● connected", green)
        case .connecting: connection = paint("○ connecting", dim)
        case .disconnected(let reason): connection = paint("○ reconnecting (\(reason.prefix(60)))", red)
        case .closed: connection = "closed"
        }
        let stats = state.statistics
        lines.append(paint("gateway watch", bold) + "  \(url)  \(connection)  reconnects \(stats.reconnects)  book resyncs \(stats.bookResyncs)")
        if let problem = state.problem { lines.append(paint("! \(problem)", red)) }
        lines.append("")
        lines.append(paint(pad("SYMBOL", 12) + lpad("LAST", 16) + lpad("BID", 16) + lpad("ASK", 16) + lpad("VOLUME", 14), dim))
        for (index, symbol) in state.symbols.enumerated() {
            let marker = index == state.focus ? "▸ " : "  "
            guard let price = state.prices[symbol] else {
                lines.append(marker + pad(symbol, 10) + lpad("…", 16))
                continue
            }
            var last = lpad(price.price, 16)
            if let old = state.previous[symbol], let now = Decimal(string: price.price), let then = Decimal(string: old) {
                last = now > then ? paint(last, green) : now < then ? paint(last, red) : last
            }
            let row = marker + pad(symbol, 10) + last + lpad(price.bid ?? "-", 16) + lpad(price.ask ?? "-", 16) + lpad(price.volume ?? "-", 14)
            if let stale = staleText(state.freshness[symbol]) { lines.append(paint(row + "  " + stale, dim)) } else { lines.append(row) }
        }
        lines.append("")
        let symbol = state.focused
        let freshness = state.freshness[symbol]
        if freshness?.isBookStale == true {
            lines.append(paint("\(symbol) book stale (feed gap): waiting for a snapshot", red))
        } else if let book = state.books[symbol] {
            lines.append(paint("\(symbol) book  seq \(book.seq)  checksum \(String(book.checksum, radix: 16)) ok", bold))
            lines.append(paint(lpad("BID QTY", 14) + lpad("BID", 16) + "   " + pad("ASK", 16) + pad("ASK QTY", 14), dim))
            for level in 0..<depth {
                let bid = level < book.bids.count ? book.bids[level] : nil
                let ask = level < book.asks.count ? book.asks[level] : nil
                lines.append(
                    lpad(bid?.qty ?? "", 14) + paint(lpad(bid?.price ?? "", 16), green) + "   "
                        + paint(pad(ask?.price ?? "", 16), red) + pad(ask?.qty ?? "", 14)
                )
            }
        } else {
            lines.append(paint("\(symbol) book  waiting for a snapshot…", bold))
        }
        if let freshness, freshness.gapCount > 0 {
            let recent = freshness.gaps.suffix(3).map { "\($0.channel) \($0.fromSeq)–\($0.toSeq == .max ? "…" : String($0.toSeq)) \($0.reason)" }
            lines.append(paint("  gaps declared \(freshness.gapCount): " + recent.joined(separator: " · "), dim))
        }
        lines.append("")
        lines.append(paint("\(symbol) last trades", bold))
        for trade in state.trades[symbol] ?? [] {
            let time = Date(timeIntervalSince1970: trade.ts / 1000).formatted(.dateTime.hour(.twoDigits(amPM: .omitted)).minute().second())
            let side = trade.side == "buy" ? paint(pad("buy", 5), green) : paint(pad(trade.side, 5), red)
            lines.append("  " + pad(time, 10) + side + lpad(trade.price, 16) + lpad(trade.qty, 14))
        }
        if showUser {
            lines.append("")
            lines.append(paint("your events (/user)", bold))
            if state.userEvents.isEmpty { lines.append(paint("  none yet", dim)) }
            for line in state.userEvents { lines.append("  " + line) }
        }
        lines.append("")
        lines.append(paint("q quit · tab / ←→ next symbol", dim))
        return lines.map { clip($0, columns) }
    }

    /// "STALE 3.2 s" for a symbol whose feed the gateway says is silent.
    static func staleText(_ freshness: MarketFreshness?) -> String? {
        guard let freshness, freshness.isStale else { return nil }
        guard let since = freshness.silentSince else { return "STALE" }
        let seconds = Double(since.duration(to: .now).components.seconds) + Double(since.duration(to: .now).components.attoseconds) / 1e18
        return "STALE " + String(format: "%.1f s", seconds)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func lpad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// Cuts a line to the terminal's width, not counting colour codes.
    static func clip(_ line: String, _ columns: Int) -> String {
        var visible = 0
        var result = ""
        var inEscape = false
        for character in line {
            if character == "\u{1B}" { inEscape = true }
            if !inEscape {
                guard visible < columns else { continue }
                visible += 1
            }
            result.append(character)
            if inEscape, character.isLetter { inEscape = false }
        }
        return result
    }
}

extension JSONValue {
    /// Short one-line JSON for a screen.
    var compactText: String {
        let text = JSONSerializer.serialize(self)
        return text.count > 100 ? String(text.prefix(99)) + "…" : text
    }
}
