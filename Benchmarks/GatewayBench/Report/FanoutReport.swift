import GatewayJSON

/// The `fanout` and `symbols` result: one row per step (a rate the tool offered, or a window of
/// the server's own ticks), totals over all steps.
struct FanoutReport: BenchReport {
    struct Step {
        var step: Int
        /// Ticks or broadcasts per second this tool offered; nil when the server makes them.
        var rate: Int?
        var seconds: Double
        var deliveries: Int
        /// Payload bytes of those deliveries.
        var bytes: Int
        /// Deliveries against the offered load (ticks accepted × subscribers watching each); nil
        /// when the server makes the ticks.
        var deliveredPercent: Double?
        var latency: LatencySummary
        /// `--ticks post`: ticks the gateway refused with 429 (its feed loop was behind).
        var ticksRefused: Int?

        var deliveriesPerSecond: Double { Double(deliveries) / seconds }
        var bytesPerSecond: Double { Double(bytes) / seconds }
    }

    var scenario: String
    var label: String
    var urls: [String]
    var namespace: String
    var event: String?
    var ticks: String
    var threads: Int
    var subscribers: Int
    var symbols: Int
    var perClient: Int
    var connected = 0
    var connectSeconds = 0.0
    var steps: [Step] = []
    var latency = LatencySummary()
    var errors: [String: Int] = [:]
    var firstError: String?

    var errorCount: Int { errors.values.reduce(0, +) }
    var deliveriesPerSecond: Double {
        steps.isEmpty ? 0 : steps.map(\.deliveriesPerSecond).reduce(0, +) / Double(steps.count)
    }
    var bytesPerSecond: Double {
        steps.isEmpty ? 0 : steps.map(\.bytesPerSecond).reduce(0, +) / Double(steps.count)
    }

    var json: JSONValue {
        .object([
            "scenario": .string(scenario), "label": .string(label), "urls": .strings(urls), "namespace": .string(namespace),
            "event": event.map { .string($0) } ?? .null, "ticks": .string(ticks), "threads": .int(threads),
            "subscribers": .int(subscribers), "connected": .int(connected), "symbols": .int(symbols), "per_client": .int(perClient),
            "connect_seconds": .rounded(connectSeconds, places: 3), "errors": .int(errorCount), "error_kinds": .counts(errors),
            "first_error": firstError.map { .string($0) } ?? .null,
            "deliveries_per_s": .rounded(deliveriesPerSecond, places: 0), "bytes_per_s": .rounded(bytesPerSecond, places: 0),
            "latency_ms": .latency(latency),
            "steps": .array(steps.map { step in
                .object([
                    "step": .int(step.step), "rate": step.rate.map { .int($0) } ?? .null, "seconds": .rounded(step.seconds, places: 3),
                    "deliveries": .int(step.deliveries), "deliveries_per_s": .rounded(step.deliveriesPerSecond, places: 0),
                    "bytes_per_s": .rounded(step.bytesPerSecond, places: 0),
                    "delivered_pct": step.deliveredPercent.map { .rounded($0, places: 1) } ?? .null,
                    "latency_ms": .latency(step.latency), "ticks_refused": step.ticksRefused.map { .int($0) } ?? .null,
                ])
            }),
        ])
    }

    var table: String {
        var table = TextTable(columns: ["step", "offered/s", "deliveries/s", "KB/s", "delivered", "p50 ms", "p90 ms", "p99 ms", "max ms"])
        for step in steps {
            table.rows.append([
                String(step.step), step.rate.map { $0.grouped } ?? "-", step.deliveriesPerSecond.grouped, (step.bytesPerSecond / 1000).grouped,
                step.deliveredPercent.map { String(format: "%.1f %%", $0) } ?? "-", step.latency.p50.millisecondsCell,
                step.latency.p90.millisecondsCell, step.latency.p99.millisecondsCell, step.latency.max.millisecondsCell,
            ])
        }
        let refused = steps.compactMap(\.ticksRefused).reduce(0, +)
        let source = ["server": "ticks from the server", "post": "ticks POSTed by this tool", "echo": "the echo app's broadcast", "raw": "a plain WebSocket broadcast"][ticks] ?? ticks
        let watching = ["echo": ", room members", "raw": ""][ticks] ?? " (\(symbols.grouped) symbol\(symbols == 1 ? "" : "s"), \(perClient) per client)"
        let lines = [
            (label.isEmpty ? scenario : label) + ": \(subscribers.grouped) subscribers on \(urls.joined(separator: ", ")) \(namespace)"
                + "\(watching), \(source), \(threads) threads",
            table.text,
            "total: \(connected.grouped) connected in \(String(format: "%.2f", connectSeconds)) s, \(errorCount.grouped) errors, "
                + "mean \(deliveriesPerSecond.grouped) deliveries/s; latency p50 \(latency.p50.milliseconds), p90 \(latency.p90.milliseconds), "
                + "p99 \(latency.p99.milliseconds), max \(latency.max.milliseconds)" + (ticks == "post" ? "; \(refused.grouped) ticks refused (429)" : ""),
        ]
        return (lines + ReportFooter.errors(errors, first: firstError)).joined(separator: "\n")
    }
}
