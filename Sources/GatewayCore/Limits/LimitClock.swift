import NIOCore

/// The clock the per-address limits run on: monotonic seconds (wall-clock steps must not empty
/// or refill a bucket).
enum LimitClock {
    static func now() -> Double { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }
}
