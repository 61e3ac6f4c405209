import Foundation
import XCTest

/// `graft finetune` / `graft train --from-scratch` with `--task regression|multi-label` as processes, and
/// their bundles through `graft evaluate` (text, `--json`, `--report`) and `graft predict`; usage errors exit 64,
/// bad target files exit 1 naming the file.
final class TaskTrainingCommandTests: XCTestCase {
    func testRegressionFineTuneEvaluatesWithAScatterPlotAndPredictsNumbers() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let (table, _) = try TaskCommandTests.scoredReviews(dir)
        let bundle = dir.appendingPathComponent("ft").path
        let train = try Graft.run(["finetune", "--data", table.path, "--task", "regression", "--targets", table.path, "--target", "score",
                                   "--target", "words", "--loss", "huber", "--unfreeze", "1", "--epochs", "2", "--validation-per-class", "2",
                                   "--test-count", "4", "--out", bundle, "--quiet", "--json"])
        XCTAssertExit(train, 0)
        let summary = try train.json()
        XCTAssertEqual((summary["history"] as? [Any])?.count, 2)
        XCTAssertNil(summary["test"], "no classification report")
        let test = try XCTUnwrap((summary["testMetrics"] as? [String: Any])?["regression"] as? [String: Any], train.stdout)
        XCTAssertEqual(test["rows"] as? Int, 4)
        XCTAssertEqual((test["perTarget"] as? [Any])?.count, 2)
        XCTAssertNotNil((summary["validationMetrics"] as? [String: Any])?["regression"])
        XCTAssertTrue((summary["recipe"] as? String)?.hasPrefix("LP-FT") == true, "\(summary)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/bundle.json"))) as? [String: Any]
        XCTAssertEqual(manifest?["task"] as? String, "regression")
        XCTAssertEqual(manifest?["classNames"] as? [String], ["score", "words"])
        XCTAssertEqual((manifest?["notes"] as? [String: String])?["loss"], "huber")

        // Text output: the task's metric in the epoch table, the test line in MAE / RMSE / R^2.
        let text = try Graft.run(["finetune", "--data", table.path, "--task", "regression", "--targets", table.path, "--target", "score",
                                  "--unfreeze", "1", "--epochs", "1", "--validation-per-class", "2", "--test-count", "4",
                                  "--out", dir.appendingPathComponent("ft2").path, "--quiet"])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.contains("linear probe (LP-FT): ridge alpha="), text.transcript)
        XCTAssertTrue(text.stdout.contains("train r2") && text.stdout.contains("val r2"), text.transcript)
        XCTAssertTrue(text.stdout.contains("test MAE "), text.transcript)

        let report = dir.appendingPathComponent("report.html").path
        let evaluate = try Graft.run(["evaluate", "--bundle", bundle, "--data", table.path, "--targets", table.path, "--json", "--quiet",
                                      "--report", report])
        XCTAssertExit(evaluate, 0)
        let metrics = try XCTUnwrap(try evaluate.json()["regression"] as? [String: Any], evaluate.stdout)
        XCTAssertEqual(try evaluate.json()["precision"] as? String, "fp32", "the task metrics say which precision ran too")
        XCTAssertEqual(metrics["rows"] as? Int, 24)
        XCTAssertGreaterThan(metrics["r2"] as? Double ?? -1, 0.3, evaluate.stdout)
        let html = try String(contentsOfFile: report, encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg class=\"chart scatter\"").count - 1, 2, "one scatter plot per target")
        XCTAssertTrue(html.contains("score") && html.contains("RMSE"))
        let plain = try Graft.run(["evaluate", "--bundle", bundle, "--data", table.path, "--targets", table.path, "--quiet"])
        XCTAssertExit(plain, 0)
        XCTAssertTrue(plain.stdout.hasPrefix("MAE ") && plain.stdout.contains("on 24 examples") && plain.stdout.contains("words"), plain.transcript)

        let predict = try Graft.run(["predict", "--bundle", bundle, "--json", "A wonderful, moving film.", "Dull and far too long."])
        XCTAssertExit(predict, 0)
        let results = try XCTUnwrap(try predict.json()["results"] as? [[String: Any]])
        XCTAssertEqual(results.compactMap { ($0["values"] as? [String: Double])?["words"] }.count, 2, predict.stdout)

        // Usage errors exit 64; targets that miss an item exit 1 naming the file.
        for args in [["--task", "regression"], ["--loss", "huber"], ["--task", "regression", "--targets", table.path, "--labels", table.path],
                     ["--task", "multi-label", "--targets", table.path], ["--task", "regression", "--targets", table.path, "--loss", "l1"]] {
            XCTAssertExit(try Graft.run(["finetune", "--data", table.path, "--out", dir.appendingPathComponent("bad").path] + args), 64)
        }
        let short = dir.appendingPathComponent("short.csv")
        try "id,score\nscored.csv#0,1\n".write(to: short, atomically: true, encoding: .utf8)
        let missing = try Graft.run(["finetune", "--data", table.path, "--task", "regression", "--targets", short.path, "--target", "score",
                                     "--out", dir.appendingPathComponent("bad").path, "--quiet"])
        XCTAssertExit(missing, 1)
        XCTAssertTrue(missing.stderr.contains("\(short.path): no row for 'scored.csv#1'"), missing.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad").path))
        // evaluate needs the data's targets for a regression bundle.
        XCTAssertExit(try Graft.run(["evaluate", "--bundle", bundle, "--data", table.path, "--quiet"]), 64)
    }

    func testMultiLabelFromScratchAndEvaluate() throws {
        let dir = CLIFixtures.temporaryDirectory()
        var csv = "text,label,tags\n"
        for (p, n) in zip(CLIFixtures.positive, CLIFixtures.negative) {
            for (text, label) in [(p, "positive"), (n, "negative")] {
                let tags = [label] + (text.split(separator: " ").count <= 6 ? ["short"] : [])
                csv += "\"\(text)\",\(label),\(tags.joined(separator: "|"))\n"
            }
        }
        let table = dir.appendingPathComponent("tagged.csv")
        try csv.write(to: table, atomically: true, encoding: .utf8)
        let bundle = dir.appendingPathComponent("scratch").path
        let train = try Graft.run(["train", "--from-scratch", "--data", table.path, "--task", "multi-label", "--labels", table.path,
                                   "--label-column", "tags", "--epochs", "2", "--validation-per-class", "2", "--test-count", "4",
                                   "--out", bundle, "--quiet", "--json"])
        XCTAssertExit(train, 0)
        let summary = try train.json()
        let test = try XCTUnwrap((summary["testMetrics"] as? [String: Any])?["multiLabel"] as? [String: Any], train.stdout)
        for key in ["microF1", "macroF1", "hammingLoss", "meanAveragePrecision", "perLabel"] { XCTAssertNotNil(test[key], key) }
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/bundle.json"))) as? [String: Any]
        XCTAssertEqual(manifest?["task"] as? String, "multi-label")
        XCTAssertEqual(manifest?["classNames"] as? [String], ["negative", "positive", "short"])
        XCTAssertEqual((manifest?["headThresholds"] as? [Double])?.count, 3)

        let evaluate = try Graft.run(["evaluate", "--bundle", bundle, "--data", table.path, "--labels", table.path, "--label-column", "tags",
                                      "--json", "--quiet"])
        XCTAssertExit(evaluate, 0)
        let metrics = try XCTUnwrap(try evaluate.json()["multiLabel"] as? [String: Any], evaluate.stdout)
        XCTAssertEqual(metrics["rows"] as? Int, 24)
        let plain = try Graft.run(["evaluate", "--bundle", bundle, "--data", table.path, "--labels", table.path, "--label-column", "tags", "--quiet"])
        XCTAssertExit(plain, 0)
        XCTAssertTrue(plain.stdout.hasPrefix("micro-F1 ") && plain.stdout.contains("short"), plain.transcript)
        let predict = try Graft.run(["predict", "--bundle", bundle, "--json", "A wonderful, moving film."])
        XCTAssertExit(predict, 0)
        // A label outside the bundle's is an error naming the file; --targets do not apply to a multi-label bundle.
        let other = dir.appendingPathComponent("other.csv")
        try "text,label,tags\nfine,positive,zebra\n".write(to: other, atomically: true, encoding: .utf8)
        let unknown = try Graft.run(["evaluate", "--bundle", bundle, "--data", other.path, "--labels", other.path, "--label-column", "tags", "--quiet"])
        XCTAssertExit(unknown, 1)
        XCTAssertTrue(unknown.stderr.contains("unknown label 'zebra'"), unknown.transcript)
        XCTAssertExit(try Graft.run(["evaluate", "--bundle", bundle, "--data", table.path, "--targets", table.path, "--quiet"]), 64)
    }
}
