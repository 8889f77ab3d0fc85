import NIOConcurrencyHelpers

/// Reads a stream in the background for the whole test; the test looks at what came so far.
final class Recorder<Element: Sendable>: Sendable {
    private let received: NIOLockedValueBox<[Element]>
    private let reader: Task<Void, Never>

    init(_ stream: AsyncStream<Element>) {
        let received = NIOLockedValueBox<[Element]>([])
        self.received = received
        reader = Task {
            for await element in stream { received.withLockedValue { $0.append(element) } }
        }
    }

    var all: [Element] { received.withLockedValue { $0 } }
    var count: Int { received.withLockedValue { $0.count } }

    /// Waits until `count` elements have come (up to `timeout`); true if they did.
    func waitFor(_ count: Int, timeout: Duration = .seconds(10)) async -> Bool {
        await eventually(timeout: timeout) { self.count >= count }
    }

    deinit { reader.cancel() }
}

/// Waits until `condition` holds, up to `timeout`.
func eventually(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}
