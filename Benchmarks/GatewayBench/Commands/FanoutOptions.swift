import ArgumentParser
import Foundation

extension TickSource: ExpressibleByArgument {}

/// The options `fanout` and `symbols` share: subscribers, where the messages come from, steps.
struct FanoutOptions: ParsableArguments {
    @Option(help: "Subscriber connections.") var subscribers: Int = 1000
    @Option(help: "Subscriber handshakes in flight at once (they wait behind live traffic).") var inFlight: Int = 100
    @Option(
        help: """
            Where messages come from: server (its own feed, or a producer you run), post (this tool POSTs ticks to \
            /api/v1/market; needs --token), echo (the echo app rebroadcasts this tool's events to --room), raw \
            (a plain WebSocket server rebroadcasts this tool's B-prefixed frames).
            """
    )
    var ticks: TickSource = .server
    @Option(help: "Offered rates per second, one step each, comma separated (default 200 for post; 250,500,1000,1500,2000 for echo and raw).")
    var rates: String?
    @Option(help: "--ticks server: measurement windows.") var windows: Int = 3
    @Option(help: "Seconds per step or window.") var seconds: Double = 3
    @Option(help: "--ticks post: a service or admin token (gateway token --sub bench --role service).") var token: String?
    @Option(help: "--ticks echo: the room subscribers join and the sender broadcasts to.") var room: String = "bench"

    func validate() throws {
        guard subscribers > 0, inFlight > 0, windows > 0, seconds > 0 else {
            throw ValidationError("--subscribers, --in-flight, --windows and --seconds must be positive")
        }
        if ticks == .post && token == nil { throw ValidationError("--ticks post needs --token (a service or admin token)") }
        if rates != nil && ticks == .server { throw ValidationError("--rates is for --ticks post, echo or raw; the server sets its own rate") }
        if let rates, rateList(rates).isEmpty { throw ValidationError("--rates must be positive numbers, comma separated") }
    }

    /// One entry per step: the offered rate, or nil per window of the server's own ticks.
    var steps: [Int?] {
        switch ticks {
        case .server: Array(repeating: nil, count: windows)
        case .post: rateList(rates ?? "200")
        case .echo, .raw: rateList(rates ?? "250,500,1000,1500,2000")
        }
    }

    /// The clients' defaults for this source: /prices subscribers, or members of the echo room.
    var defaults: ClientOptions.Defaults {
        switch ticks {
        case .server, .post: .init()
        case .echo: .init(namespace: "/bench", event: "join", payload: "\"\(room)\"", clock: .sentMonotonic)
        case .raw: .init(namespace: "/bench", event: "", wire: .raw, clock: .sentMonotonic)
        }
    }

    func plan() -> FanoutScenario.Plan {
        .init(subscribers: subscribers, inFlight: inFlight, source: ticks, steps: steps, seconds: seconds, token: token, room: room)
    }

    private func rateList(_ text: String) -> [Int?] {
        text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
    }
}
