import ArgumentParser
import Foundation
import GatewayClient

/// `gateway watch BTC/USDT ETH/USDT`: live prices, the focused symbol's depth ladder and last
/// trades, redrawn in place; `--user` adds the signed-in user's events. Built on the
/// ``GatewayClient`` library, so it reconnects, resubscribes and re-verifies books by itself.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch prices, a depth ladder, trades and your events live in the terminal."
    )

    @Argument(help: "Symbols to watch (the first is focused; tab or arrow keys move the focus).") var symbols: [String]
    @Option(help: "Gateway URL (http://, https://, ws:// or wss://).") var url: String = "http://127.0.0.1:3000"
    @Option(help: "PEM CA certificates to trust for https:// and wss:// (default: the system's).") var caFile: String?
    @Flag(help: "Also show your /user events (needs --token or $GATEWAY_TOKEN).") var user = false
    @Option(help: "Token for /user (default: $GATEWAY_TOKEN).") var token: String?
    @Option(help: "Levels per side in the ladder.") var depth: Int = 8
    @Option(help: "Trades listed.") var trades: Int = 8

    func validate() throws {
        guard !symbols.isEmpty else { throw ValidationError("name at least one symbol, e.g. gateway watch BTC/USDT") }
        guard (1...50).contains(depth) else { throw ValidationError("--depth must be 1…50") }
        if user, token ?? ProcessInfo.processInfo.environment["GATEWAY_TOKEN"] == nil {
            throw ValidationError("--user needs --token or GATEWAY_TOKEN (see `gateway token --sub <id>`)")
        }
    }

    func run() async throws {
        let token = token ?? ProcessInfo.processInfo.environment["GATEWAY_TOKEN"]
        let client: GatewayClient
        let provider: GatewayClient.TokenProvider? = token.map { value in { @Sendable in value } }
        do throws(GatewayClientError) {
            client = try GatewayClient(url: url, options: .init(caFile: caFile, bookDepth: depth), token: provider)
        } catch {
            throw ValidationError(error.description)
        }
        let model = WatchModel(WatchState(symbols: symbols))
        let terminal = Terminal()
        terminal.enter()
        defer { terminal.restore() }

        let feeds = Task { await follow(client: client, model: model) }
        let screen = Task { await draw(model: model, terminal: terminal, client: client) }
        await waitForQuit(terminal: terminal, model: model)
        feeds.cancel()
        screen.cancel()
        await screen.value  // no frame may land after the terminal is restored
        await client.close()
    }

    /// Starts every stream; a refusal (unknown symbol, bad token) is shown, not fatal to the rest.
    private func follow(client: GatewayClient, model: WatchModel) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await state in await client.states() {
                    let statistics = await client.statistics
                    model.update { $0.connection = state; $0.statistics = statistics }
                }
            }
            group.addTask {
                await show(model) {
                    for await update in try await client.prices(symbols) { model.update { $0.price(update) } }
                }
            }
            // Freshness changes without a stream element (a stale feed sends nothing): polled.
            group.addTask {
                while !Task.isCancelled {
                    var freshness: [String: MarketFreshness] = [:]
                    for symbol in symbols { freshness[symbol] = await client.freshness(symbol) }
                    let changed = freshness
                    model.update { $0.freshness = changed }
                    try? await Task.sleep(for: .milliseconds(250))
                }
            }
            for symbol in symbols {
                group.addTask {
                    await show(model) {
                        for await book in try await client.book(symbol) {
                            let statistics = await client.statistics
                            model.update { $0.books[symbol] = book; $0.statistics = statistics }
                        }
                    }
                }
                group.addTask {
                    await show(model) {
                        for await trade in try await client.trades(symbol) { model.update { $0.trade(trade, keep: trades) } }
                    }
                }
            }
            if user {
                group.addTask {
                    await show(model) {
                        for await element in try await client.userEvents() { model.update { $0.user(element, keep: 10) } }
                    }
                }
            }
        }
    }

    private func show(_ model: WatchModel, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch let error as GatewayClientError {
            // The code first: the line may be cut to the terminal's width.
            let text = error.code.map { "\($0): \(error)" } ?? "\(error)"
            model.update { $0.problem = text }
        } catch {
            model.update { $0.problem = "\(error)" }
        }
    }

    /// Redraws at most ten times a second, and only after a change.
    private func draw(model: WatchModel, terminal: Terminal, client: GatewayClient) async {
        while !Task.isCancelled {
            if let state = model.takeIfChanged() {
                let size = terminal.size
                var lines = WatchScreen.lines(state, url: url, depth: depth, showUser: user, columns: size.columns, color: terminal.isInteractive)
                if terminal.isInteractive { lines = Array(lines.prefix(size.rows)) }
                terminal.draw(lines)
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// q, Q or Ctrl-C quit; tab and the arrow keys move the focus. Keys are read on a thread of
    /// their own: reading blocks.
    private func waitForQuit(terminal: Terminal, model: WatchModel) async {
        let count = symbols.count
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                var escape: [UInt8] = []
                while let key = terminal.readKey() {
                    if !escape.isEmpty || key == 0x1B {
                        escape.append(key)
                        guard escape.count == 3 else { continue }
                        defer { escape = [] }
                        if escape == [0x1B, 0x5B, 0x43] { model.update { $0.focus = ($0.focus + 1) % count } }
                        if escape == [0x1B, 0x5B, 0x44] { model.update { $0.focus = ($0.focus + count - 1) % count } }
                        continue
                    }
                    switch key {
                    case UInt8(ascii: "q"), UInt8(ascii: "Q"), 0x03: done.resume(); return
                    case 0x09: model.update { $0.focus = ($0.focus + 1) % count }
                    default: continue
                    }
                }
                done.resume()  // end of input
            }
        }
    }
}
