/// Why a configuration was refused: one line per bad key, naming the key and the value.
struct ConfigurationError: Error, CustomStringConvertible {
    let problems: [String]

    var description: String {
        "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
