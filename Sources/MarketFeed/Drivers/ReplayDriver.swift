import NIOCore

/// Replays a ``ReplayFile`` (`feed.source: replay`) at `speed` times its recorded pace,
/// optionally in a loop.
public struct ReplayDriver: FeedDriver {
    public let file: ReplayFile
    public let speed: Double
    public let loops: Bool
    public var kind: FeedSourceKind { .replay }

    public init(file: ReplayFile, speed: Double, loops: Bool) {
        self.file = file
        self.speed = speed
        self.loops = loops
    }

    public func start(into sink: any FeedSink) -> EventLoopFuture<RepeatedTask> {
        let feedLoop = sink.feedLoop
        let (entries, speed, loops) = (file.entries, speed, loops)
        return feedLoop.submit {
            var next = 0
            var started = NIODeadline.now()
            return feedLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(5)) { task in
                let elapsedMs = Double((NIODeadline.now() - started).nanoseconds) / 1e6 * speed
                var due: [FeedMessage] = []
                while next < entries.count, entries[next].offsetMs <= elapsedMs {
                    due.append(entries[next].message)
                    next += 1
                }
                if !due.isEmpty { sink.ingest(due, source: FeedSourceKind.replay.rawValue) }
                if next == entries.count {
                    if loops {
                        next = 0
                        started = NIODeadline.now()
                    } else {
                        task.cancel()
                    }
                }
            }
        }
    }
}
