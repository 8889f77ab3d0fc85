import Foundation

/// Files SwiftPM copies beside the executable (`realtime-gateway_App.resources`): the dashboard
/// and the OpenAPI document. Looked up by hand: `Bundle.module` stops the process when the bundle
/// is missing (a binary copied alone), where a gateway without them should still serve the rest.
enum BundledResource {
    /// The path of `relative` inside the resources, when it exists.
    static func path(_ relative: String) -> String? {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for candidate in [Bundle.main.bundleURL, executable] {
            let file = candidate.appendingPathComponent("realtime-gateway_App.resources").appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: file.path) { return file.path }
        }
        return nil
    }
}
