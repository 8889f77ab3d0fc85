import ArgumentParser
import Foundation
import GatewayCore

/// `gateway-bench locks`: the client-event rate-limit store under contention, one lock against
/// striped locks, in the same process and interleaved (A B A B …), so a shared machine's noise
/// falls on both alike. Each thread takes tokens for its own connections, as event loops do.
struct LocksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locks", abstract: "Rate-limit store throughput: one lock against striped locks, interleaved."
    )

    @Option(help: "Threads taking tokens at once (event loops).") var threads = max(2, ProcessInfo.processInfo.activeProcessorCount)
    @Option(help: "Takes per thread per round.") var takes = 200_000
    @Option(help: "Connections (keys) per thread.") var keys = 1_000
    @Option(help: "Rounds of each variant.") var rounds = 5
    @Option(help: "Stripes of the striped variant.") var stripes = 16

    func validate() throws {
        for (name, value) in [("threads", threads), ("takes", takes), ("keys", keys), ("rounds", rounds), ("stripes", stripes)] where value < 1 {
            throw ValidationError("--\(name) must be at least 1.")
        }
    }

    func run() throws {
        print("# locks: \(threads) threads × \(takes) takes, \(keys) keys each, \(rounds) interleaved rounds")
        var single: [Double] = []
        var striped: [Double] = []
        for _ in 0..<rounds {
            single.append(measure(LocalRateLimitStore(stripes: 1)))
            striped.append(measure(LocalRateLimitStore(stripes: stripes)))
        }
        let a = median(single), b = median(striped)
        print(String(format: "one lock      %10.0f takes/s (median of %d)", a, rounds))
        print(String(format: "%2d stripes    %10.0f takes/s (median of %d)", stripes, b, rounds))
        print(String(format: "ratio striped/one: %.2f", b / a))
    }

    /// Takes per second of `threads` threads hammering `store` at once.
    private func measure(_ store: LocalRateLimitStore) -> Double {
        let policy = TokenBucket.Policy(points: 1_000_000, duration: 1, blockDuration: 0)
        let threadKeys = (0..<threads).map { thread in
            (0..<keys).map { RateLimitKey(namespace: "/prices", owner: .connection("t\(thread)-c\($0)")) }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let mine = threadKeys[thread]
            for index in 0..<takes {
                _ = store.takeLocally(key: mine[index % mine.count], policy: policy, now: 1_000)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(threads * takes) / seconds
    }

    private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
