import Foundation
import XCTest

/// `graft fit --head prototype|knn` as processes: text and JSON outputs, the bundle they write going
/// through `evaluate` and `predict`, and usage errors (exit 64).
final class TaskCommandTests: XCTestCase {
    func testPrototypeAndNeighborsHeadsFitEvaluateAndPredict() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let reviews = try CLIFixtures.reviewTable().path
        let store = dir.appendingPathComponent("store").path
        XCTAssertExit(try Graft.run(["extract", "--data", reviews, "--out", store, "--quiet"]), 0)

        let prototype = dir.appendingPathComponent("prototype").path
        let fit = try Graft.run(["fit", "--features", store, "--head", "prototype", "--out", prototype])
        XCTAssertExit(fit, 0)
        XCTAssertTrue(fit.stdout.hasPrefix("prototype on 24 x 384: no fitting, training accuracy"), fit.transcript)

        let knn = dir.appendingPathComponent("knn").path
        let fitJSON = try Graft.run(["fit", "--features", store, "--head", "knn", "--k", "3", "--out", knn, "--json"])
        XCTAssertExit(fitJSON, 0)
        let summary = try fitJSON.json()
        XCTAssertEqual(summary["head"] as? String, "knn")
        XCTAssertEqual(summary["k"] as? Int, 3)
        XCTAssertNil(summary["C"])
        XCTAssertEqual(summary["examples"] as? Int, 24)
        // Each training row is its own nearest neighbour, and two more agree on sentiment this clearly.
        XCTAssertEqual(summary["trainAccuracy"] as? Double, 1)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: knn + "/bundle.json"))) as? [String: Any]
        XCTAssertEqual(manifest?["headKind"] as? String, "knn")
        XCTAssertEqual(manifest?["headNeighbors"] as? Int, 3)

        for bundle in [prototype, knn] {
            let evaluate = try Graft.run(["evaluate", "--bundle", bundle, "--data", reviews, "--json", "--quiet"])
            XCTAssertExit(evaluate, 0)
            let report = try evaluate.json()
            XCTAssertEqual(report["rows"] as? Int, 24)
            XCTAssertGreaterThanOrEqual(report["accuracy"] as? Double ?? 0, 0.9, evaluate.stdout)

            let predict = try Graft.run(["predict", "--bundle", bundle, "--top", "2", "--json", "A wonderful, moving film.", "Dull and far too long."])
            XCTAssertExit(predict, 0)
            let results = try XCTUnwrap(try predict.json()["results"] as? [[String: Any]])
            let top = results.map { (($0["labels"] as? [[String: Any]])?.first?["label"] as? String) }
            XCTAssertEqual(top, ["positive", "negative"], predict.stdout)
            let shares = (results[0]["labels"] as? [[String: Any]])?.compactMap { $0["probability"] as? Double } ?? []
            XCTAssertEqual(shares.reduce(0, +), 1, accuracy: 1e-5)
        }
        let votes = try Graft.run(["predict", "--bundle", knn, "--top", "1", "--json", "A wonderful, moving film."])
        let share = ((try votes.json()["results"] as? [[String: Any]])?.first?["labels"] as? [[String: Any]])?.first?["probability"] as? Double
        let s = try XCTUnwrap(share)
        XCTAssertEqual(s, (s * 3).rounded() / 3, accuracy: 1e-6, "k-NN scores are vote shares of k = 3")

        for bad in [["--head", "knn", "--k", "0"], ["--head", "logreg", "--k", "3"], ["--head", "prototype", "--C", "1"], ["--head", "centroid"]] {
            let run = try Graft.run(["fit", "--features", store, "--out", dir.appendingPathComponent("bad").path] + bad)
            XCTAssertExit(run, 64)
        }
        let help = try Graft.run(["fit", "--help"])
        XCTAssertTrue(help.stdout.contains("prototype") && help.stdout.contains("knn"), help.transcript)
    }
}
