import GatewayJSON

/// The `ramp` result: one row per wave, totals over all waves.
struct RampReport: BenchReport {
    struct Wave {
        var wave: Int
        var connected: Int
        var errors: Int
        var seconds: Double
        var latency: LatencySummary
        var server: ServerState?
        var serverAfterLeaving: ServerState?

        var ratePerSecond: Double { seconds > 0 ? Double(connected) / seconds : 0 }
    }

    var label: String
    var urls: [String]
    var namespace: String
    var event: String?
    var threads: Int
    var clients: Int
    var inFlight: Int
    var waves: [Wave] = []
    /// Connect → ack over every wave.
    var latency = LatencySummary()
    var errors: [String: Int] = [:]
    var firstError: String?
    var serverBefore: ServerState?
    var serverAtEnd: ServerState?

    var connected: Int { waves.map(\.connected).reduce(0, +) }
    var errorCount: Int { errors.values.reduce(0, +) }
    var ratePerSecond: Double {
        let seconds = waves.map(\.seconds).reduce(0, +)
        return seconds > 0 ? Double(connected) / seconds : 0
    }

    var json: JSONValue {
        .object([
            "scenario": "ramp", "label": .string(label), "urls": .strings(urls), "namespace": .string(namespace),
            "event": event.map { .string($0) } ?? .null, "threads": .int(threads), "clients": .int(clients),
            "in_flight": .int(inFlight), "waves": .int(waves.count), "connected": .int(connected),
            "errors": .int(errorCount), "error_kinds": .counts(errors), "first_error": firstError.map { .string($0) } ?? .null,
            "rate_per_s": .rounded(ratePerSecond, places: 0), "latency_ms": .latency(latency),
            "server_before": .server(serverBefore), "server_at_end": .server(serverAtEnd),
            "steps": .array(waves.map { wave in
                .object([
                    "wave": .int(wave.wave), "connected": .int(wave.connected), "errors": .int(wave.errors),
                    "seconds": .rounded(wave.seconds, places: 3), "rate_per_s": .rounded(wave.ratePerSecond, places: 0),
                    "latency_ms": .latency(wave.latency), "server": .server(wave.server),
                    "server_after_leaving": .server(wave.serverAfterLeaving),
                ])
            }),
        ])
    }

    var table: String {
        let withServer = waves.contains { $0.server != nil }
        var table = TextTable(
            columns: ["wave", "connected", "errors", "seconds", "rate/s", "p50 ms", "p90 ms", "p99 ms", "max ms"]
                + (withServer ? ["server RSS", "fds", "RSS after leaving", "fds after leaving"] : [])
        )
        for wave in waves {
            table.rows.append(
                [
                    String(wave.wave), wave.connected.grouped, wave.errors.grouped, String(format: "%.2f", wave.seconds),
                    wave.ratePerSecond.grouped, wave.latency.p50.millisecondsCell, wave.latency.p90.millisecondsCell,
                    wave.latency.p99.millisecondsCell, wave.latency.max.millisecondsCell,
                ] + (withServer ? [wave.server.megabytes, wave.server.fdsCell, wave.serverAfterLeaving.megabytes, wave.serverAfterLeaving.fdsCell] : [])
            )
        }
        let request = event.map { "\"\($0)\" with an ack" } ?? "join only"
        var lines = [
            (label.isEmpty ? "ramp" : label) + ": \(clients.grouped) clients per wave to \(urls.joined(separator: ", ")) \(namespace), "
                + "\(request), at most \(inFlight.grouped) in flight, \(threads) threads",
            table.text,
            "total: \(connected.grouped) connected, \(errorCount.grouped) errors, \(ratePerSecond.grouped)/s; connect → ack "
                + "p50 \(latency.p50.milliseconds), p90 \(latency.p90.milliseconds), p99 \(latency.p99.milliseconds), max \(latency.max.milliseconds)",
        ]
        if let serverBefore, let serverAtEnd {
            lines.append("server: before \(Optional(serverBefore).megabytes), \(serverBefore.fds) fds; 2 s after the last wave left \(Optional(serverAtEnd).megabytes), \(serverAtEnd.fds) fds")
        }
        return (lines + ReportFooter.errors(errors, first: firstError)).joined(separator: "\n")
    }
}

extension Optional<ServerState> {
    var megabytes: String { map { String(format: "%.1f MB", $0.rssMB) } ?? "-" }
    var fdsCell: String { map { $0.fds.grouped } ?? "-" }
}
