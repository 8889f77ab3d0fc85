import NIOCore

/// `idempotency.*`: how long producers' Idempotency-Keys and event ids are remembered, and how
/// many one instance keeps (docs/integration.md).
struct IdempotencyConfiguration: Sendable {
    var window: TimeAmount
    var maxKeys: Int

    init(reading reader: inout ConfigurationReader) {
        window = .seconds(Int64(reader.int("idempotency.windowSeconds", in: 1...604_800)))
        maxKeys = reader.int("idempotency.maxKeys", in: 1...10_000_000)
    }
}
