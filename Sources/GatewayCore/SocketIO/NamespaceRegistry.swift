/// The namespaces a server serves, fixed at start-up.
public struct NamespaceRegistry: Sendable {
    private let handlers: [String: any NamespaceHandler]

    public init(_ handlers: [any NamespaceHandler]) {
        var byName: [String: any NamespaceHandler] = [:]
        for handler in handlers {
            precondition(handler.name.hasPrefix("/"), "namespace names start with /")
            byName[handler.name] = handler
        }
        self.handlers = byName
    }

    public func handler(for namespace: String) -> (any NamespaceHandler)? { handlers[namespace] }

    public var names: [String] { handlers.keys.sorted() }
}
