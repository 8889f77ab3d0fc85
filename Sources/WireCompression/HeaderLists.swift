/// HTTP header list syntax shared by `Sec-WebSocket-Extensions` and `Accept-Encoding`
/// (RFC 9110 §5.6.1): comma-separated items over every line of the header, optional whitespace
/// around each, empty items skipped.
enum HeaderLists {
    static func items(_ headerValues: [String]) -> [Substring] {
        headerValues.flatMap { $0.split(separator: ",") }
    }

    /// `text` without the spaces and tabs around it.
    static func trimmed<Text: StringProtocol>(_ text: Text) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
