import Foundation

/// Milliseconds since the Unix epoch, for `ts` fields of server-made payloads.
public enum WallClock {
    public static func milliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
