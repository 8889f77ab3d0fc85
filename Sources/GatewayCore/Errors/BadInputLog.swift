import Logging
import NIOCore
import NIOConcurrencyHelpers

/// Logs bad input from clients and producers (malformed packets, protocol violations, skipped
/// feed messages) at `notice`, at most `perSecond` lines a second for the whole process: a
/// flood cannot fill a disk, and the next line that gets through says how many were left out.
public final class BadInputLog: Sendable {
    public static let shared = BadInputLog(perSecond: 20)

    private struct Window {
        var second: UInt64 = 0
        var written = 0
        var suppressed = 0
    }

    private let perSecond: Int
    private let window = NIOLockedValueBox(Window())

    public init(perSecond: Int) {
        self.perSecond = perSecond
    }

    public func log(_ logger: Logger, _ message: @autoclosure () -> Logger.Message, metadata: Logger.Metadata = [:]) {
        let second = NIODeadline.now().uptimeNanoseconds / 1_000_000_000
        let suppressed: Int? = window.withLockedValue { window in
            if window.second != second {
                window.second = second
                window.written = 0
            }
            guard window.written < perSecond else {
                window.suppressed += 1
                return nil
            }
            window.written += 1
            defer { window.suppressed = 0 }
            return window.suppressed
        }
        guard let suppressed else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["log.suppressed"] = "\(suppressed)" }
        logger.notice(message(), metadata: metadata)
    }
}
