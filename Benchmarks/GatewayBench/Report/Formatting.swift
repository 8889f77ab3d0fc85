import Foundation

/// Numbers as people read them in progress lines and tables: `4,512`, `41 ms`, `0.35 ms`.
extension Int {
    var grouped: String {
        let digits = String(abs(self))
        var result = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return self < 0 ? "-" + result : result
    }
}

extension Double {
    var grouped: String { Int(rounded()).grouped }

    /// Milliseconds with the precision that means something at that size.
    var millisecondsText: String {
        if self < 1 { return String(format: "%.2f", self) }
        if self < 100 { return String(format: "%.1f", self) }
        return Int(rounded()).grouped
    }
}

extension Optional<Double> {
    /// `41 ms`, or `-` when nothing was timed.
    var milliseconds: String { map { $0.millisecondsText + " ms" } ?? "-" }
    /// The number alone for a table cell, `-` when nothing was timed.
    var millisecondsCell: String { map(\.millisecondsText) ?? "-" }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    func rightPadded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
