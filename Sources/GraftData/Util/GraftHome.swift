import Foundation

/// Where set-up (`scripts/setup.sh`) unpacks registry packages.
public enum GraftHome {
    public static var url: URL {
        if let h = ProcessInfo.processInfo.environment["GRAFT_HOME"], !h.isEmpty { return URL(fileURLWithPath: h) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/graft")
    }
    public static var packages: URL { url.appendingPathComponent("packages") }

    /// A file inside an unpacked registry package.
    public static func file(package: String, _ path: String) -> URL {
        packages.appendingPathComponent(package).appendingPathComponent(path)
    }
}
