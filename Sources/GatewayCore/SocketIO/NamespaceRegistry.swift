/// The namespaces a server serves, fixed at start-up.
public struct NamespaceRegistry: Sendable {
    private let handlers: [NamespacePath: any NamespaceHandler]

    public init(_ handlers: [any NamespaceHandler]) {
        var byPath: [NamespacePath: any NamespaceHandler] = [:]
        for handler in handlers {
            precondition(handler.name.value.hasPrefix("/"), "namespace paths start with /")
            byPath[handler.name] = handler
        }
        self.handlers = byPath
    }

    public func handler(for namespace: NamespacePath) -> (any NamespaceHandler)? { handlers[namespace] }

    /// Every namespace served, in path order.
    public var paths: [NamespacePath] { handlers.keys.sorted { $0.value < $1.value } }
}
