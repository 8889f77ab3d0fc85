import GatewayJSON

/// The Engine.IO `open` packet body: exactly the five keys clients and test suites expect.
public struct Handshake: Sendable, Hashable {
    public var sid: String
    public var upgrades: [String]
    public var pingInterval: Int
    public var pingTimeout: Int
    public var maxPayload: Int

    public init(sid: String, upgrades: [String], pingInterval: Int, pingTimeout: Int, maxPayload: Int) {
        self.sid = sid
        self.upgrades = upgrades
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    public var json: String {
        JSONSerializer.serialize(
            .object([
                "sid": .string(sid),
                "upgrades": .array(upgrades.map { .string($0) }),
                "pingInterval": .int(pingInterval),
                "pingTimeout": .int(pingTimeout),
                "maxPayload": .int(maxPayload),
            ])
        )
    }

    public var packet: EnginePacket { .open(json) }
}
