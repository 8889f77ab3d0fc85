/// A TLS file that cannot be used, worded for the operator: the configuration key, the file,
/// and what is wrong with it (start-up stops with it; a reload logs it and keeps the old files).
public struct TLSFileError: Error, Sendable, CustomStringConvertible {
    public let key: String
    public let file: String
    public let problem: String

    public init(key: String, file: String, problem: String) {
        self.key = key
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(key) = '\(file)': \(problem)" }
}
