import Foundation

/// Locations of committed fixtures and of the data set-up installs.
enum FixturePaths {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repoRoot.appendingPathComponent("Tests/Fixtures")
    static var graftHome: URL {
        if let h = ProcessInfo.processInfo.environment["GRAFT_HOME"] { return URL(fileURLWithPath: h) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/graft")
    }
    static var packages: URL { graftHome.appendingPathComponent("packages") }
}
