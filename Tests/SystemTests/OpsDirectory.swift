import Foundation

/// The checkout's `ops/` directory, found from this file's path, so tests read the very files operators install.
enum OpsDirectory {
    /// Absolute path of `ops/<relative>`.
    static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }

    /// The directory holding Package.swift and ops/.
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.pathComponents.count > 1 {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.appendingPathComponent("ops", isDirectory: true)
            }
            url = url.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("ops", isDirectory: true)
    }()
}
