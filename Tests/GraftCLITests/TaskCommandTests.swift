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

    /// The review table with two numeric columns: a score (4 for positive, 1 for negative) and the word count.
    static func scoredReviews(_ dir: URL) throws -> (table: URL, words: [Double]) {
        var csv = "text,label,score,words\n"
        var words: [Double] = []
        for (p, n) in zip(CLIFixtures.positive, CLIFixtures.negative) {
            for (text, score, label) in [(p, 4, "positive"), (n, 1, "negative")] {
                let count = text.split(separator: " ").count
                words.append(Double(count))
                csv += "\"\(text)\",\(label),\(score),\(count)\n"
            }
        }
        let url = dir.appendingPathComponent("scored.csv")
        try csv.write(to: url, atomically: true, encoding: .utf8)
        return (url, words)
    }

    func testRegressionFitsRidgeAndPredictsNumbers() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let (table, _) = try Self.scoredReviews(dir)
        let store = dir.appendingPathComponent("store").path, bundle = dir.appendingPathComponent("ridge").path
        XCTAssertExit(try Graft.run(["extract", "--data", table.path, "--out", store, "--quiet"]), 0)

        let fit = try Graft.run(["fit", "--task", "regression", "--features", store, "--targets", table.path, "--target", "score", "--out", bundle])
        XCTAssertExit(fit, 0)
        XCTAssertTrue(fit.stdout.hasPrefix("ridge on 24 x 384 -> 1 target(s): alpha="), fit.transcript)
        XCTAssertTrue(fit.stdout.contains("chosen by 5-fold cross-validation"), fit.transcript)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/bundle.json"))) as? [String: Any]
        XCTAssertEqual(manifest?["task"] as? String, "regression")
        XCTAssertEqual(manifest?["headKind"] as? String, "ridge")
        XCTAssertEqual(manifest?["classNames"] as? [String], ["score"])

        let json = try Graft.run(["fit", "--task", "regression", "--features", store, "--targets", table.path, "--target", "score",
                                  "--target", "words", "--alpha", "10", "--out", bundle, "--json"])
        XCTAssertExit(json, 0)
        let summary = try json.json()
        XCTAssertEqual(summary["alpha"] as? Double, 10)
        XCTAssertEqual(summary["targets"] as? [String], ["score", "words"])
        XCTAssertNil(summary["crossValidation"])
        let train = try XCTUnwrap(summary["train"] as? [String: Any])
        XCTAssertEqual((train["perTarget"] as? [Any])?.count, 2)
        XCTAssertGreaterThan(train["r2"] as? Double ?? 0, 0.5, json.stdout)

        let predict = try Graft.run(["predict", "--bundle", bundle, "--json", "A wonderful, moving film.", "Dull and far too long."])
        XCTAssertExit(predict, 0)
        let results = try XCTUnwrap(try predict.json()["results"] as? [[String: Any]])
        let scores = results.compactMap { ($0["values"] as? [String: Double])?["score"] }
        XCTAssertEqual(scores.count, 2, predict.stdout)
        XCTAssertGreaterThan(scores[0], scores[1], "the positive review scores higher: \(predict.stdout)")
        XCTAssertNil(results[0]["labels"])
        let text = try Graft.run(["predict", "--bundle", bundle, "A wonderful, moving film."])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.contains("  score = ") && text.stdout.contains("  words = "), text.transcript)

        // Bad targets: typed errors naming the file (and line), exit 1.
        let missing = try Graft.run(["fit", "--task", "regression", "--features", store, "--targets", table.path, "--target", "stars", "--out", bundle + "2"])
        XCTAssertExit(missing, 1)
        XCTAssertTrue(missing.stderr.contains("\(table.path): no column 'stars'"), missing.transcript)
        let words = try String(contentsOf: table, encoding: .utf8).replacingOccurrences(of: ",positive,4,", with: ",positive,four,")
        let bad = dir.appendingPathComponent("bad.csv")
        try words.write(to: bad, atomically: true, encoding: .utf8)
        let notNumber = try Graft.run(["fit", "--task", "regression", "--features", store, "--targets", bad.path, "--target", "score", "--out", bundle + "2"])
        XCTAssertExit(notNumber, 1)
        XCTAssertTrue(notNumber.stderr.contains("\(bad.path):2: column 'score' holds 'four'"), notNumber.transcript)
        let short = dir.appendingPathComponent("short.jsonl")
        try "{\"id\": \"elsewhere#0\", \"target\": 1}\n".write(to: short, atomically: true, encoding: .utf8)
        let noRow = try Graft.run(["fit", "--task", "regression", "--features", store, "--targets", short.path, "--out", bundle + "2"])
        XCTAssertExit(noRow, 1)
        XCTAssertTrue(noRow.stderr.contains("\(short.path): no row for 'scored.csv#0'"), noRow.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: bundle + "2"))

        // Usage errors: exit 64.
        for args in [["--task", "regression"], ["--task", "regression", "--targets", table.path, "--head", "knn"],
                     ["--targets", table.path], ["--alpha", "1"], ["--head", "ridge"],
                     ["--task", "regression", "--targets", table.path, "--alpha", "0"], ["--task", "ranking"]] {
            XCTAssertExit(try Graft.run(["fit", "--features", store, "--out", bundle + "3"] + args), 64)
        }
    }

    func testMultiLabelFitsOneVsRestAndPredictsLabelSets() throws {
        let dir = CLIFixtures.temporaryDirectory()
        // Each review: its sentiment, plus "short" when it has at most six words.
        var csv = "text,label,tags\n"
        for (p, n) in zip(CLIFixtures.positive, CLIFixtures.negative) {
            for (text, label) in [(p, "positive"), (n, "negative")] {
                let tags = [label] + (text.split(separator: " ").count <= 6 ? ["short"] : [])
                csv += "\"\(text)\",\(label),\(tags.joined(separator: "|"))\n"
            }
        }
        let table = dir.appendingPathComponent("tagged.csv")
        try csv.write(to: table, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("store").path, bundle = dir.appendingPathComponent("ovr").path
        XCTAssertExit(try Graft.run(["extract", "--data", table.path, "--out", store, "--quiet"]), 0)

        let fit = try Graft.run(["fit", "--task", "multi-label", "--features", store, "--labels", table.path, "--label-column", "tags", "--out", bundle])
        XCTAssertExit(fit, 0)
        XCTAssertTrue(fit.stdout.hasPrefix("ovr on 19 x 384 -> 3 labels: C=1, thresholds on 5 validation items"), fit.transcript)
        XCTAssertTrue(fit.stdout.contains("validation: micro F1 "), fit.transcript)
        for label in ["negative", "positive", "short"] { XCTAssertTrue(fit.stdout.contains(label), fit.transcript) }

        let json = try Graft.run(["fit", "--task", "multi-label", "--features", store, "--labels", table.path, "--label-column", "tags",
                                  "--C", "0.5", "--out", bundle, "--json"])
        XCTAssertExit(json, 0)
        let summary = try json.json()
        XCTAssertEqual(summary["labels"] as? [String], ["negative", "positive", "short"])
        XCTAssertEqual((summary["thresholds"] as? [Double])?.count, 3)
        XCTAssertEqual(summary["C"] as? Double, 0.5)
        let validation = try XCTUnwrap(summary["validation"] as? [String: Any])
        for key in ["microF1", "macroF1", "hammingLoss", "meanAveragePrecision", "perLabel"] { XCTAssertNotNil(validation[key], key) }
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/bundle.json"))) as? [String: Any]
        XCTAssertEqual(manifest?["task"] as? String, "multi-label")
        XCTAssertEqual(manifest?["headKind"] as? String, "ovr")

        // Predictions list every label at or above its threshold (not a top-k).
        // (Training reviews: thresholds tuned on five validation items are too coarse to promise more.)
        let predict = try Graft.run(["predict", "--bundle", bundle, "--top", "1", "--json", CLIFixtures.positive[0], CLIFixtures.negative[0]])
        XCTAssertExit(predict, 0)
        let results = try XCTUnwrap(try predict.json()["results"] as? [[String: Any]])
        let sets = results.map { (($0["labels"] as? [[String: Any]]) ?? []).compactMap { $0["label"] as? String } }
        XCTAssertTrue(sets[0].contains("positive") && !sets[0].contains("negative"), predict.stdout)
        XCTAssertTrue(sets[1].contains("negative") && !sets[1].contains("positive"), predict.stdout)

        // Bad label files: typed errors naming the file and line.
        let unknown = try Graft.run(["fit", "--task", "multi-label", "--features", store, "--labels", table.path, "--label-column", "tags",
                                     "--label-names", "positive,negative", "--out", bundle + "2"])
        XCTAssertExit(unknown, 1)
        XCTAssertTrue(unknown.stderr.contains("\(table.path):") && unknown.stderr.contains("unknown label 'short'"), unknown.transcript)
        let noColumn = try Graft.run(["fit", "--task", "multi-label", "--features", store, "--labels", table.path, "--out", bundle + "2"])
        XCTAssertExit(noColumn, 1)
        XCTAssertTrue(noColumn.stderr.contains("\(table.path): no column 'labels'"), noColumn.transcript)
        let jsonl = dir.appendingPathComponent("bad.jsonl")
        try "{\"id\": \"tagged.csv#0\", \"labels\": [\"a\", 3]}\n".write(to: jsonl, atomically: true, encoding: .utf8)
        let mistyped = try Graft.run(["fit", "--task", "multi-label", "--features", store, "--labels", jsonl.path, "--out", bundle + "2"])
        XCTAssertExit(mistyped, 1)
        XCTAssertTrue(mistyped.stderr.contains("\(jsonl.path):1: 'labels' must be a list of strings"), mistyped.transcript)

        for args in [["--task", "multi-label"], ["--task", "multi-label", "--labels", table.path, "--head", "logreg"],
                     ["--labels", table.path], ["--task", "multi-label", "--labels", table.path, "--validation-fraction", "1"],
                     ["--task", "multi-label", "--labels", table.path, "--alpha", "1"]] {
            XCTAssertExit(try Graft.run(["fit", "--features", store, "--out", bundle + "3"] + args), 64)
        }
    }
}
