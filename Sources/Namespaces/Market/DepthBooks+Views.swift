import GatewayJSON
import MarketFeed

/// Depth-N views (docs/market-data.md `"depth"`): one ``DepthView`` per symbol, cadence and N
/// that someone holds, brought up to date when that cadence's subscribers get the book.
extension DepthBooks {
    package struct ViewKey: Hashable {
        let symbol: String
        let cadence: DepthCadence
        let levels: DepthLevels

        package init(symbol: String, cadence: DepthCadence, levels: DepthLevels) {
            self.symbol = symbol
            self.cadence = cadence
            self.levels = levels
        }

        var room: Room { .depth(symbol: symbol, cadence: cadence, levels: levels) }
    }

    /// The view's snapshot, the view made from the book when it is new; nil while there is no
    /// book or it is stale (a broken book gives no snapshot, as for the whole book).
    package mutating func viewSnapshot(_ key: ViewKey, ts: JSONValue) -> DepthSnapshot? {
        guard let book = books[key.symbol], !book.isStale else { return nil }
        if views[key] == nil {
            var view = DepthView(levels: key.levels.rawValue)
            guard view.update(from: book) != nil else { return nil }
            views[key] = view
        }
        guard let view = views[key], let seq = view.seq else { return nil }
        return DepthSnapshot(symbol: key.symbol, seq: seq, json: .fragment(Self.viewSnapshot(key, view, ts: lastTs(key.symbol) ?? ts)))
    }

    /// What each view of `symbol` at `cadence` sends after its book changed. `touched`: the one
    /// feed delta behind the change, when there is one (a raw update).
    package mutating func updateViews(symbol: String, cadence: DepthCadence, touched: FeedMessage.Depth? = nil) -> [(room: Room, emitted: Emitted)] {
        guard !views.isEmpty, let book = books[symbol] else { return [] }
        var out: [(room: Room, emitted: Emitted)] = []
        for levels in DepthLevels.allCases {
            let key = ViewKey(symbol: symbol, cadence: cadence, levels: levels)
            guard views[key] != nil, let emission = views[key]!.update(from: book, touched: touched) else { continue }
            out.append((key.room, emitted(key, emission)))
        }
        return out
    }

    /// Every view of `cadence` (of `symbols`; nil: all) brought up to date.
    mutating func flushViews(_ cadence: DepthCadence, symbols: [String]?) -> [(room: Room, emitted: Emitted)] {
        guard !views.isEmpty else { return [] }
        let wanted = symbols.map(Set.init)
        var out: [(room: Room, emitted: Emitted)] = []
        for key in views.keys where key.cadence == cadence && (wanted?.contains(key.symbol) ?? true) {
            guard let book = books[key.symbol], let emission = views[key]!.update(from: book) else { continue }
            out.append((key.room, emitted(key, emission)))
        }
        return out
    }

    /// The next emission of each of `symbol`'s views is a snapshot (`atOrAbove`: only the views
    /// whose seq is not below it, which a feed snapshot of that seq cannot continue).
    mutating func invalidateViews(of symbol: String, atOrAbove seq: UInt64 = 0) {
        for key in views.keys where key.symbol == symbol && (views[key]!.seq ?? 0) >= seq { views[key]!.invalidate() }
    }

    /// The `seq` the subscribers of `room` hold for its symbol: the raw book's, a cadence's last
    /// merged emission, or a depth-N view's. Nil when they hold none yet.
    func heldSeq(_ room: Room, bookSeq: UInt64?) -> UInt64? {
        guard case .depth(let symbol, let cadence, let levels) = room else { return nil }
        if let levels { return views[ViewKey(symbol: symbol, cadence: cadence, levels: levels)]?.seq }
        return cadence == .raw ? bookSeq : conflatorSeq(symbol, cadence)
    }

    /// Forgets the views `keep` says nobody holds any more.
    mutating func dropViews(keeping keep: (ViewKey) -> Bool) {
        for key in views.keys where !keep(key) { views[key] = nil }
    }

    private func emitted(_ key: ViewKey, _ emission: DepthView.Emission) -> Emitted {
        let view = views[key]!
        let ts = lastTs(key.symbol) ?? .null
        switch emission {
        case .snapshot(let seq, _, _):
            return Emitted(symbol: key.symbol, payload: Self.viewSnapshot(key, view, ts: ts), sequences: seq...seq)
        case .delta(let prevSeq, let seq, let bids, let asks):
            let payload = DepthDeltaJSON.encode(
                symbol: key.symbol, seq: seq, prevSeq: prevSeq, bids: bids, asks: asks, depth: key.levels.rawValue, checksum: view.checksum, ts: ts
            )
            return Emitted(symbol: key.symbol, payload: payload, sequences: (prevSeq + 1)...seq)
        }
    }

    private static func viewSnapshot(_ key: ViewKey, _ view: DepthView, ts: JSONValue) -> String {
        JSONSerializer.serialize(.object([
            "symbol": .string(key.symbol), "type": "snapshot", "seq": .number(String(view.seq ?? 0)), "prevSeq": .null,
            "bids": .array(view.bids.map(\.json)), "asks": .array(view.asks.map(\.json)), "depth": .number(String(key.levels.rawValue)),
            "checksum": .number(String(view.checksum)), "ts": ts,
        ]))
    }
}
