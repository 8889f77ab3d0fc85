import NIOCore

/// What one step offered: ticks the gateway took (or events sent), and ticks it refused with
/// 429 OVERLOADED (its feed loop was behind).
struct Offered: Sendable {
    var accepted = 0
    var refused = 0
}

/// What makes the fan-out's messages during a step: nothing (the server does), this tool's
/// POSTs, or this tool's sender whose events the server rebroadcasts.
enum TickDriver: Sendable {
    case server
    case post(TickPoster)
    case broadcast(BroadcastSender)

    static func start(plan: FanoutScenario.Plan, launcher: ClientLauncher, loops: ClientLoops) async throws -> TickDriver {
        switch plan.source {
        case .server:
            return .server
        case .post:
            guard let token = plan.token else { throw RunFailure("--ticks post needs --token") }
            return .post(try await TickPoster.connect(
                to: launcher.targets[0], tls: launcher.tls, on: loops.loops[0], token: token, symbols: launcher.script.symbols
            ))
        case .echo, .raw:
            // The sender only joins the namespace (no room, no request); it is not a subscriber.
            let sender = launcher.with(script: launcher.script.joiningOnly())
            let channel: any Channel
            do {
                channel = try await sender.start(index: 0, on: loops.loops[0], stats: LoopStats()).get()
            } catch {
                throw RunFailure("the sender could not connect: \(ClientFailure(error))")
            }
            let style: BroadcastSender.Style = plan.source == .raw ? .raw(scope: launcher.script.scope) : .echoApp(scope: launcher.script.scope, room: plan.room)
            return .broadcast(BroadcastSender(channel: channel, style: style))
        }
    }

    /// One step: `rate` a second for `seconds` (or just the window, when the server makes the
    /// ticks); what was offered, nil when the server made it.
    func run(rate: Int?, seconds: Double) async throws -> Offered? {
        switch self {
        case .server:
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            return nil
        case .post(let poster):
            return try await poster.run(rate: rate ?? 0, seconds: seconds)
        case .broadcast(let sender):
            return Offered(accepted: try await sender.run(rate: rate ?? 0, seconds: seconds))
        }
    }

    func close() {
        switch self {
        case .server: break
        case .post(let poster): poster.close()
        case .broadcast(let sender): sender.channel.close(promise: nil)
        }
    }
}
