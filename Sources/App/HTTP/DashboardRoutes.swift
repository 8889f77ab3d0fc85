import Foundation
import GatewayServer
import Hummingbird

/// The browser dashboard: static files under `/dashboard/` (from the copy SwiftPM builds next
/// to the binary, or `server.dashboard.directory`), with `/` redirecting there
/// (`/dashboard` serves the page too: its links are absolute).
enum DashboardRoutes {
    /// Registers the routes; returns the folder served, or nil when there is none to serve.
    @discardableResult
    static func register(on router: Router<GatewayRequestContext>, directory: String) -> String? {
        guard let folder = directory.isEmpty ? bundledFolder() : directory else { return nil }
        router.add(middleware: FileMiddleware(folder, urlBasePath: "/dashboard", cacheControl: .init([(MediaType(type: .any), [.noCache])]), searchForIndexHtml: true))
        router.get("/") { _, _ in Response.redirect(to: "/dashboard/", type: .found) }
        return folder
    }

    /// The `Dashboard` resources beside the executable.
    static func bundledFolder() -> String? {
        BundledResource.path("Dashboard/index.html").map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
    }
}
