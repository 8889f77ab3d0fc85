import HummingbirdCore

extension URI {
    /// The query as a dictionary (Hummingbird percent-decodes values; the last value of a
    /// repeated name wins), the shape `EngineRequest` takes.
    var queryDictionary: [String: String] {
        var result: [String: String] = [:]
        for (name, value) in queryParameters { result[String(name)] = String(value) }
        return result
    }
}
