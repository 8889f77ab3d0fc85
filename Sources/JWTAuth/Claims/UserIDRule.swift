import Foundation

/// Which user ids the gateway accepts (docs/security.md, "User ids"). An id is 1 to 128 bytes of
/// UTF-8 in Unicode normalization form C, with no control, format, separator or whitespace
/// characters. Anything else (`#`, `:`, `|`, `*`, `{`, non-ASCII letters) is allowed: ids are
/// never parsed back out of the keys they are part of, and every key puts the id last, after a
/// fixed prefix, so two distinct ids never share a key.
///
/// NFC matters because Swift compares strings by canonical equivalence: `é` and `e` + U+0301
/// are equal Strings (one room) but different bytes (two Redis keys). Only the NFC spelling is
/// accepted, so for accepted ids equal Strings are equal bytes.
public enum UserIDRule {
    public static let maximumBytes = 128

    /// Why `id` is refused, written for the user; nil when it is acceptable.
    public static func problem(with id: String) -> String? {
        let bytes = id.utf8.count
        if bytes == 0 { return "The token's user id (userId or sub) is empty." }
        if bytes > maximumBytes { return "The token's user id is \(bytes) bytes; at most \(maximumBytes) are accepted." }
        for scalar in id.unicodeScalars where refused(scalar) {
            let code = String(scalar.value, radix: 16, uppercase: true)
            return "The token's user id contains U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code) (whitespace, control and invisible characters are not accepted)."
        }
        guard Array(id.precomposedStringWithCanonicalMapping.utf8) == Array(id.utf8) else {
            return "The token's user id is not in Unicode normalization form C."
        }
        return nil
    }

    private static func refused(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.properties.isWhitespace { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return true
        default:
            return false
        }
    }
}
