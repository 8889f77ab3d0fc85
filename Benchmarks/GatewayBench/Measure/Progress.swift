import Foundation
import NIOCore
import Synchronization

/// Progress lines on stderr, at most one a second while a phase runs, prefixed with the
/// seconds since the tool started: `[ 3s] connected 4,512/10,000  rate 1,503/s  …`. Stderr,
/// so that stdout holds only the result (table or JSON).
struct Progress: Sendable {
    let quiet: Bool
    private let started = NIODeadline.now()

    init(quiet: Bool) {
        self.quiet = quiet
    }

    func print(_ text: String) {
        guard !quiet else { return }
        let seconds = (NIODeadline.now() - started).nanoseconds / 1_000_000_000
        let line = "[" + String(seconds).leftPadded(to: 2) + "s] " + text + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Runs `body`; meanwhile, every second, prints what `line` returns.
    func reporting<T>(_ line: @escaping @Sendable () async -> String?, during body: () async throws -> T) async rethrows -> T {
        guard !quiet else { return try await body() }
        let ticker = Task {
            while true {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { return }
                // A line that took long to gather may land after the phase ended: drop it.
                if let text = await line(), !Task.isCancelled { print(text) }
            }
        }
        // Awaited, not just cancelled: no line may follow the phase's result.
        do {
            let result = try await body()
            ticker.cancel()
            await ticker.value
            return result
        } catch {
            ticker.cancel()
            await ticker.value
            throw error
        }
    }
}

/// The change of a running total since the previous progress line.
final class Delta: Sendable {
    private let last = Mutex(0)

    func next(_ total: Int) -> Int {
        last.withLock { last in
            defer { last = total }
            return total - last
        }
    }
}
