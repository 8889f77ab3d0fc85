import Foundation
import GatewayJSON

/// A scenario's result: a table for people, one JSON object for programs (`--json`), printed
/// on stdout once the run is over.
protocol BenchReport {
    var json: JSONValue { get }
    var table: String { get }
}

extension BenchReport {
    func emit(asJSON: Bool, jsonFile: String? = nil) throws {
        let text = asJSON ? JSONSerializer.serialize(json) : table
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
        if let jsonFile {
            do {
                try Data((JSONSerializer.serialize(json) + "\n").utf8).write(to: URL(fileURLWithPath: jsonFile))
            } catch {
                throw RunFailure("cannot write --json-file \(jsonFile): \(error.localizedDescription)")
            }
        }
    }
}

/// JSON pieces the reports share, with rounded numbers so the output stays readable.
extension JSONValue {
    static func rounded(_ value: Double, places: Int = 2) -> JSONValue {
        let scale = pow(10, Double(places))
        return .double((value * scale).rounded() / scale)
    }

    static func optional(_ value: Double?) -> JSONValue { value.map { .rounded($0) } ?? .null }

    static func latency(_ summary: LatencySummary) -> JSONValue {
        .object(["p50": .optional(summary.p50), "p90": .optional(summary.p90), "p99": .optional(summary.p99), "max": .optional(summary.max)])
    }

    static func server(_ state: ServerState?) -> JSONValue {
        guard let state else { return .null }
        return .object(["rss_mb": .rounded(state.rssMB, places: 1), "fds": .int(state.fds)])
    }

    static func counts(_ counts: [String: Int]) -> JSONValue {
        .object(counts.sorted { $0.key < $1.key }.map { JSONMember($0.key, .int($0.value)) })
    }

    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
}

/// The lines under every table: totals, then what went wrong, if anything did.
enum ReportFooter {
    static func errors(_ counts: [String: Int], first: String?) -> [String] {
        guard !counts.isEmpty else { return [] }
        let kinds = counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.grouped)" }.joined(separator: ", ")
        return ["errors: " + kinds] + (first.map { ["first error: " + $0] } ?? [])
    }
}
