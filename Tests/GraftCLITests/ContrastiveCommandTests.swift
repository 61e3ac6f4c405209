import Foundation
import XCTest

/// `graft finetune --contrastive` (SetFit's recipe) and the `contrastive` row of `graft compare` as processes:
/// the bundle holds the tuned encoder and the head and `graft evaluate` / `predict` read it; `--json` carries
/// the strategy and its options; usage errors exit 64 before any work.
final class ContrastiveCommandTests: XCTestCase {
    func testFinetuneContrastiveWritesABundleThatEvaluates() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let reviews = try CLIFixtures.reviewTable().path
        let bundle = dir.appendingPathComponent("setfit").path
        let run = try Graft.run(["finetune", "--data", reviews, "--contrastive", "--iterations", "2", "--per-class", "6",
                                 "--validation-per-class", "1", "--test-count", "8", "--seed", "1", "--out", bundle, "--quiet", "--json"])
        XCTAssertExit(run, 0)
        let summary = try run.json()
        let strategy = try XCTUnwrap(summary["strategy"] as? [String: Any], run.stdout)
        XCTAssertEqual(strategy["kind"] as? String, "contrastive")
        XCTAssertEqual(strategy["iterations"] as? Int, 2)
        XCTAssertEqual(strategy["epochs"] as? Int, 1)
        XCTAssertEqual(summary["recipe"] as? String, "SetFit")
        XCTAssertEqual((summary["history"] as? [Any])?.count, 1)
        XCTAssertEqual((summary["probe"] as? [String: Any])?["examples"] as? Int, 12)
        // 24 reviews: the test items are a stratified fifth held out (fewer than --test-count).
        let testRows = try XCTUnwrap((summary["test"] as? [String: Any])?["rows"] as? Int)
        XCTAssertEqual(testRows, (summary["split"] as? [String: Any])?["test"] as? Int)
        XCTAssertGreaterThan(testRows, 0)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/bundle.json"))) as? [String: Any]
        XCTAssertEqual((manifest?["strategy"] as? [String: Any])?["kind"] as? String, "contrastive")

        let evaluate = try Graft.run(["evaluate", "--bundle", bundle, "--data", reviews, "--quiet"])
        XCTAssertExit(evaluate, 0)
        XCTAssertTrue(evaluate.stdout.hasPrefix("accuracy "), evaluate.transcript)
        let predict = try Graft.run(["predict", "--bundle", bundle, "--json", "An utterly charming film."])
        XCTAssertExit(predict, 0)
        XCTAssertTrue(predict.stdout.contains("positive") && predict.stdout.contains("negative"), predict.transcript)

        // Text output: the pair-tuning epoch and the head fitted on the tuned embeddings.
        let text = try Graft.run(["finetune", "--data", reviews, "--contrastive", "--iterations", "1", "--per-class", "4",
                                  "--validation-per-class", "1", "--test-count", "4", "--out", dir.appendingPathComponent("t").path, "--quiet"])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.contains("head on the tuned embeddings (SetFit): logistic regression C="), text.transcript)
        XCTAssertTrue(text.stdout.contains("test accuracy "), text.transcript)
    }

    func testUsageErrorsExit64() throws {
        let reviews = try CLIFixtures.reviewTable().path
        let out = CLIFixtures.temporaryDirectory().appendingPathComponent("none").path
        for extra in [["--iterations", "3"], ["--contrastive", "--iterations", "0"], ["--contrastive", "--epochs", "0"]] {
            let bad = try Graft.run(["finetune", "--data", reviews, "--out", out] + extra)
            XCTAssertExit(bad, 64)
            XCTAssertTrue(bad.stderr.contains("--iterations") || bad.stderr.contains("--epochs"), bad.transcript)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertExit(try Graft.run(["compare", "--text", "--strategies", "contrastive", "--iterations", "0"]), 64)
    }

    func testCompareHasAContrastiveRow() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let reviews = try CLIFixtures.reviewTable().path
        let run = try Graft.run(["compare", "--data", reviews, "--strategies", "logreg,contrastive", "--iterations", "1", "--per-class", "4",
                                 "--validation-per-class", "1", "--test-count", "6", "--work", dir.appendingPathComponent("work").path,
                                 "--quiet", "--json"])
        XCTAssertExit(run, 0)
        let outcomes = try XCTUnwrap(try run.json()["outcomes"] as? [[String: Any]], run.stdout)
        XCTAssertEqual(outcomes.map { $0["strategy"] as? String }, ["features + logistic regression", "contrastive (SetFit) + logistic regression"])
        XCTAssertEqual(outcomes.last?["detail"] as? String, "1 pair iterations, 1 epoch, lr 2e-05")
    }
}
