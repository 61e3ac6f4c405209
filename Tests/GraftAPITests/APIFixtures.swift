import Foundation
import Graft
import XCTest

/// Small real data for the API tests: scikit-learn's 8x8 digits and Rotten
/// Tomatoes reviews, both installed by `make setup`.
enum APIFixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repoRoot.appendingPathComponent("Tests/Fixtures")
    static var packages: URL { GraftHome.packages }

    /// The first `perClass` digits of each class in `classes`, after skipping `skip` of each.
    static func digits(_ classes: [Int], perClass: Int, skip: Int = 0) throws -> (images: [RGBImage], labels: [String]) {
        let data = try BuiltinDatasets.digits()
        var images: [RGBImage] = [], labels: [String] = []
        for c in classes {
            let members = (0..<data.count).filter { data.label(at: $0) == c }.dropFirst(skip).prefix(perClass)
            for i in members { images.append(data.image(at: i)); labels.append(String(c)) }
        }
        return (images, labels)
    }

    /// Fresh and rotten reviews, `perClass` of each, after skipping `skip` of each.
    static func reviews(perClass: Int, skip: Int = 0) throws -> (texts: [String], labels: [String]) {
        let data = try BuiltinDatasets.rottenTomatoes()
        var texts: [String] = [], labels: [String] = []
        for (c, name) in data.classNames.enumerated() {
            for i in (0..<data.count).filter({ data.label(at: $0) == c }).dropFirst(skip).prefix(perClass) {
                guard case let .text(t) = try data.item(at: i) else { continue }
                texts.append(t); labels.append(name)
            }
        }
        return (texts, labels)
    }

    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("graft-api-\(UUID().uuidString)")
    }

    /// Every event of a job, in order.
    static func events<M>(_ job: TrainingJob<M>) async -> [TrainingEvent] {
        var all: [TrainingEvent] = []
        for await e in job.progress { all.append(e) }
        return all
    }
}
