import Foundation
import XCTest

/// Small inputs for the process tests, made once per test process in a temporary folder: photos from
/// scikit-image (installed by `make setup`), a CSV of photos in two classes, and a CSV of short
/// reviews in two classes.
enum CLIFixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let weightsFixtures = repoRoot.appendingPathComponent("Tests/Fixtures/weights")

    static var packages: URL {
        let home = ProcessInfo.processInfo.environment["GRAFT_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/graft")
        return home.appendingPathComponent("packages")
    }
    static var photos: URL { packages.appendingPathComponent("scikit-image/skimage/data") }
    static func photo(_ name: String) -> String { photos.appendingPathComponent(name).path }

    /// A fresh folder per call, removed when the test process exits (or left in $TMPDIR).
    static func temporaryDirectory(_ tag: String = #function) -> URL {
        let safe = tag.filter { $0.isLetter || $0.isNumber }
        let url = root.appendingPathComponent("\(safe)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
    static let root: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("graft-cli-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: CLIFixtures.root) }
        return url
    }()

    /// `path,label`: chelsea/coffee photos as `cat`, rocket/astronaut as `rocket`, `repeats` rows
    /// per class (relative paths resolve against the CSV's folder): enough that the default splits
    /// of `finetune` (half for test, 10 per class for validation) leave 5 per class to train on.
    static func photoTable(repeats: Int = 30) throws -> URL {
        let dir = temporaryDirectory("photos")
        let classes = [("cat", ["chelsea.png", "coffee.png"]), ("rocket", ["rocket.jpg", "astronaut.png"])]
        var csv = "path,label\n"
        for (label, files) in classes {
            for f in files { try FileManager.default.copyItem(atPath: photo(f), toPath: dir.appendingPathComponent(f).path) }
            for i in 0..<repeats { csv += "\(files[i % files.count]),\(label)\n" }
        }
        let url = dir.appendingPathComponent("photos.csv")
        try csv.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static let positive = [
        "A warm, funny and moving film.", "The best movie I have seen this year.", "Brilliant acting and a clever script.",
        "I loved every minute of it.", "A delightful story told with great heart.", "Beautifully shot and wonderfully acted.",
        "An uplifting, joyful experience.", "Smart, charming and genuinely touching.", "A triumph from start to finish.",
        "Great fun for the whole family.", "The performances are superb.", "A moving and memorable masterpiece.",
    ]
    static let negative = [
        "A dull, lifeless mess.", "The worst movie I have seen this year.", "Terrible acting and a lazy script.",
        "I hated every minute of it.", "A boring story told without any heart.", "Ugly to look at and badly acted.",
        "A depressing, joyless slog.", "Stupid, tedious and painfully slow.", "A disaster from start to finish.",
        "Avoid this one at all costs.", "The performances are awful.", "A forgettable and pointless film.",
    ]

    /// `text,label` with the reviews above.
    static func reviewTable() throws -> URL {
        var csv = "text,label\n"
        for (p, n) in zip(positive, negative) { csv += "\"\(p)\",positive\n\"\(n)\",negative\n" }
        let url = temporaryDirectory("reviews").appendingPathComponent("reviews.csv")
        try csv.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// A file that claims to be an image but is not.
    static func notAnImage() throws -> String {
        let url = temporaryDirectory("broken").appendingPathComponent("broken.png")
        try "not a PNG".write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}
