import ArgumentParser
import GatewayJSON
import NIOCore

/// The options every load scenario shares: where the clients go and what they send.
struct ClientOptions: ParsableArguments {
    @Option(
        name: .customLong("url"),
        help: "Server: http://host:port, https://, ws:// or wss://, plus the Engine.IO path when it is not /socket.io/. Repeat to spread the clients over several servers."
    )
    var urls: [String] = ["http://127.0.0.1:3000"]

    @Option(help: "Namespace the clients join (default /prices; /bench with --ticks echo or raw).")
    var namespace: String?

    @Option(help: "CONNECT payload, a JSON object, e.g. '{\"token\":\"…\"}'.")
    var auth: String?

    @Option(help: "Event each client emits with an ack id once joined; '' only joins (default subscribe; join with --ticks echo).")
    var event: String?

    @Option(help: "The event's argument, JSON; $SYMBOLS is the client's symbols as a JSON array, $SYMBOL the first (default {\"symbols\":$SYMBOLS}).")
    var payload: String?

    @Option(help: "Client event-loop threads.")
    var threads: Int = 2

    @Option(help: "PEM file of the CA certificates to trust for https:// and wss:// (default: the system's trust store).")
    var caFile: String?

    @Option(help: "Seconds a client may take from its TCP connect to its ack.")
    var timeout: Double = 30

    @Option(help: "Connect from this many loopback addresses, 127.0.1.1 onwards, round-robin (0: the system's choice); per-address server bounds then meet each group as they would distinct hosts.")
    var sourceAddresses: Int = 0

    func validate() throws {
        guard threads > 0 else { throw ValidationError("--threads must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard (0...250).contains(sourceAddresses) else { throw ValidationError("--source-addresses takes 0 to 250") }
        if let auth, (try? JSONParser.parse(auth))?.isObject != true {
            throw ValidationError("--auth must be a JSON object, e.g. '{\"token\":\"…\"}'")
        }
    }

    /// What the scenario's clients do, where the options leave it to the scenario.
    struct Defaults {
        var namespace = "/prices"
        var event = "subscribe"
        var payload = #"{"symbols":$SYMBOLS}"#
        var wire = ClientScript.Wire.socketIO
        var clock = ClientScript.Clock.wallTimestamp
    }

    func launcher(defaults: Defaults, symbols: [String], perClient: Int) throws -> ClientLauncher {
        do {
            let targets = try urls.map { text throws(UsageError) in try ServerTarget(text) }
            let payload = payload ?? defaults.payload
            let sample = ClientScript.fill(payload, symbols: Array(symbols.prefix(perClient)))
            if !sample.isEmpty, (try? JSONParser.parse(sample)) == nil {
                throw UsageError("--payload is not JSON once $SYMBOLS is filled in: \(sample.prefix(200))")
            }
            let script = ClientScript(
                wire: defaults.wire, namespace: namespace ?? defaults.namespace, auth: auth, event: event ?? defaults.event,
                payload: payload, symbols: symbols, perClient: perClient, clock: defaults.clock
            )
            let tls = try ClientLauncher.tlsContext(for: targets, caFile: caFile)
            let sources = try (0..<sourceAddresses).map { try SocketAddress(ipAddress: "127.0.1.\($0 + 1)", port: 0) }
            return ClientLauncher(targets: targets, script: script, tls: tls, timeout: .milliseconds(Int64(timeout * 1000)), sources: sources)
        } catch let error as UsageError {
            throw ValidationError(error.description)
        }
    }
}

/// The symbols the clients subscribe to, for `$SYMBOLS` in the payload.
struct SymbolChoice: ParsableArguments {
    @Option(help: "Symbols, comma separated; client i takes --per-client consecutive ones from position i × --per-client.")
    var symbols: String = "BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT"

    @Option(help: "Symbols each client subscribes to.")
    var perClient: Int = 1

    var list: [String] { symbols.split(separator: ",").map(String.init) }
}

/// How the result is printed.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the result as one JSON object instead of the table.")
    var json = false

    @Option(help: "Also write the JSON object to this file (the table still goes to stdout).")
    var jsonFile: String?

    @Option(help: "A name for this run, in the table's first line and the JSON.")
    var label: String = ""

    @Flag(help: "No progress lines on stderr.")
    var quiet = false
}
