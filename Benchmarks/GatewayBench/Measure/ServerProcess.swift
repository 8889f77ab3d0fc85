import Foundation

/// A server process on this machine (`--server-pid`): resident memory and open descriptors,
/// read from /proc, so a server that keeps departed clients shows it.
struct ServerState: Sendable {
    var rssMB: Double
    var fds: Int

    init?(pid: Int?) {
        guard let pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let rssKB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?
            .split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0
        rssMB = Double(rssKB) / 1024
        fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }
}
