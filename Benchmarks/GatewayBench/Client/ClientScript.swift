import Foundation
import GatewayJSON

/// What every client does once its WebSocket is open, as the packets it sends and the prefixes
/// it looks for (built once, shared by all clients):
/// Engine.IO open → CONNECT the namespace (with `auth`) → the event with ack id 1 → ready at the
/// ack. Afterwards every EVENT packet on the namespace is a delivery.
final class ClientScript: Sendable {
    enum Wire: Sendable {
        /// Socket.IO v5 over Engine.IO v4.
        case socketIO
        /// A plain WebSocket server: ready at the upgrade, every text frame a delivery.
        case raw
    }

    /// Where a delivery's latency comes from.
    enum Clock: Sendable {
        /// `"ts":<ms since the epoch>` in the payload (the last one): the feed's or producer's
        /// wall clock against this machine's, to the millisecond.
        case wallTimestamp
        /// `["tick",{"t":<ns>` as stamped by this tool's own sender (monotonic, same machine).
        case sentMonotonic
    }

    let wire: Wire
    let namespace: String
    let event: String?
    let clock: Clock
    let symbols: [String]
    let perClient: Int
    /// `/prices,` before a packet's data, nothing for the root namespace.
    let scope: String
    private let auth: String?
    private let payload: String

    /// `40/prices,` (or `40` for the root namespace), with the auth object if any.
    let connectPacket: String
    /// `40/prices,{`: the namespace accepted the client.
    let connectedPrefix: String
    /// `44/prices,`: CONNECT_ERROR.
    let connectErrorPrefix: String
    /// `43/prices,1`: the answer to our one request.
    let ackPrefix: String
    /// `42/prices,[`: an event on our namespace (compared as bytes on the hot path).
    let eventPrefix: [UInt8]
    /// `42/bench,["tick",{"t":`: an event stamped by our sender.
    let tickPrefix: [UInt8]

    init(wire: Wire, namespace: String, auth: String?, event: String?, payload: String, symbols: [String], perClient: Int, clock: Clock) {
        self.wire = wire
        self.namespace = namespace
        self.event = event?.isEmpty == true ? nil : event
        self.auth = auth
        self.payload = payload
        self.symbols = symbols
        self.perClient = max(1, perClient)
        self.clock = clock
        scope = namespace == "/" ? "" : namespace + ","
        connectPacket = "40" + scope + (auth ?? "")
        connectedPrefix = "40" + scope + "{"
        connectErrorPrefix = "44" + scope
        ackPrefix = "43" + scope + "1"
        eventPrefix = Array(("42" + scope + "[").utf8)
        tickPrefix = eventPrefix + Array(#""tick",{"t":"#.utf8)
    }

    /// The same script without a request: the client is ready once it has joined.
    func joiningOnly() -> ClientScript {
        ClientScript(
            wire: wire, namespace: namespace, auth: auth, event: nil,
            payload: payload, symbols: symbols, perClient: perClient, clock: clock
        )
    }

    /// The symbols client `index` watches: `perClient` consecutive ones, round-robin.
    func symbols(for index: Int) -> [String] {
        guard !symbols.isEmpty else { return [] }
        return (0..<min(perClient, symbols.count)).map { symbols[(index * perClient + $0) % symbols.count] }
    }

    /// `42/prices,1["subscribe",{"symbols":["ETH/USDT"]}]` for client `index`; nil: no request.
    func request(for index: Int) -> String? {
        guard let event else { return nil }
        let argument = Self.fill(payload, symbols: symbols(for: index))
        return "42" + scope + "1[" + JSONSerializer.serialize(.string(event)) + (argument.isEmpty ? "" : "," + argument) + "]"
    }

    /// `$SYMBOLS` → the client's symbols as a JSON array, `$SYMBOL` → the first one.
    static func fill(_ template: String, symbols: [String]) -> String {
        let list = JSONSerializer.serialize(.array(symbols.map { .string($0) }))
        let first = JSONSerializer.serialize(.string(symbols.first ?? ""))
        return template.replacingOccurrences(of: "$SYMBOLS", with: list).replacingOccurrences(of: "$SYMBOL", with: first)
    }

    /// Whether an ack refuses: its first argument is an object with `"ok": false` (the gateway's
    /// convention, SPEC §4); any other ack is a success.
    static func ackRefuses(_ packet: String, after prefix: String) -> Bool {
        guard let arguments = try? JSONParser.parse(packet.utf8.dropFirst(prefix.utf8.count)),
            case .array(let items) = arguments, let first = items.first
        else { return false }
        return first["ok"]?.boolValue == false
    }
}
