import Foundation
import XCTest

/// `extract`, `fit`, `evaluate`, `finetune`, `train`, `compare` as processes, checked loosely (exit
/// status, key lines, bundle files): their options and JSON are being redesigned (issue 14). Kept
/// fast: a few photos listed many times, `--per-class 5`, one epoch.
final class TrainingCommandTests: XCTestCase {
    func testExtractProgressIsPlainLinesWithoutATerminal() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let store = dir.appendingPathComponent("store").path
        let run = try Graft.run(["extract", "--data", "digits", "--limit", "64", "--batch", "8", "--out", store])
        XCTAssertExit(run, 0)
        XCTAssertTrue(run.stdout.contains("64 examples x 1280 features"), run.transcript)
        // stderr is a file here: whole lines, no carriage returns or terminal escapes.
        XCTAssertTrue(run.stderr.contains("extracting"), run.transcript)
        XCTAssertFalse(run.stderr.contains("\r"), run.transcript)
        XCTAssertFalse(run.stderr.contains("\u{1B}["), run.transcript)
        let progress = run.stderr.split(separator: "\n").filter { $0.hasPrefix("extracting") }
        XCTAssertTrue(progress.last?.contains("64/64") ?? false, run.transcript)
        XCTAssertLessThanOrEqual(progress.count, 12, "one line per tenth at most: \(run.stderr)")

        // Resuming a complete store does no work; --quiet prints no progress.
        let again = try Graft.run(["extract", "--data", "digits", "--limit", "64", "--batch", "8", "--out", store, "--quiet"])
        XCTAssertExit(again, 0)
        XCTAssertFalse(again.stderr.contains("extracting"), again.transcript)
        let json = try Graft.run(["extract", "--data", "digits", "--limit", "64", "--batch", "8", "--out", store, "--quiet", "--json"])
        XCTAssertExit(json, 0)
        let summary = try json.json()
        XCTAssertEqual(summary["examples"] as? Int, 64)
        XCTAssertEqual(summary["dimension"] as? Int, 1280)
        XCTAssertEqual(summary["complete"] as? Bool, true)

        XCTAssertExit(try Graft.run(["extract", "--data", "digits", "--out", store, "--pool", "median"]), 64)
        let missing = try Graft.run(["extract", "--data", dir.appendingPathComponent("nothing").path, "--out", store + "2"])
        XCTAssertExit(missing, 1)
        XCTAssertTrue(missing.stderr.contains("nothing"), missing.transcript)
    }

    func testFitAndEvaluateText() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let reviews = try CLIFixtures.reviewTable().path
        let store = dir.appendingPathComponent("store").path, bundle = dir.appendingPathComponent("bundle").path
        XCTAssertExit(try Graft.run(["extract", "--data", reviews, "--out", store, "--quiet"]), 0)
        let fit = try Graft.run(["fit", "--features", store, "--out", bundle])
        XCTAssertExit(fit, 0)
        XCTAssertTrue(fit.stdout.contains("training accuracy"), fit.transcript)
        XCTAssertTrue(FileManager.default.fileExists(atPath: bundle + "/bundle.json"))
        let fitJSON = try Graft.run(["fit", "--features", store, "--out", bundle, "--head", "svm", "--C", "1", "--json"])
        XCTAssertExit(fitJSON, 0)
        let fitSummary = try fitJSON.json()
        XCTAssertEqual(fitSummary["examples"] as? Int, 24)
        XCTAssertEqual(fitSummary["dimension"] as? Int, 384)
        XCTAssertEqual(fitSummary["head"] as? String, "svm")

        let evaluate = try Graft.run(["evaluate", "--bundle", bundle, "--data", reviews, "--quiet"])
        XCTAssertExit(evaluate, 0)
        XCTAssertTrue(evaluate.stdout.hasPrefix("accuracy "), evaluate.transcript)
        XCTAssertTrue(evaluate.stdout.contains("on 24 examples"), evaluate.transcript)
        XCTAssertTrue(evaluate.stdout.contains("confusion matrix"), evaluate.transcript)
        for label in ["positive", "negative"] { XCTAssertTrue(evaluate.stdout.contains(label), evaluate.transcript) }

        let json = try Graft.run(["evaluate", "--bundle", bundle, "--data", reviews, "--json", "--quiet", "--limit", "10"])
        XCTAssertExit(json, 0)
        let report = try json.json()
        XCTAssertEqual(report["rows"] as? Int, 10)
        for key in ["accuracy", "balancedAccuracy", "perClass", "confusionMatrix"] { XCTAssertNotNil(report[key], "\(key): \(json.stdout)") }

        XCTAssertExit(try Graft.run(["fit", "--out", bundle]), 64)
        let noStore = try Graft.run(["fit", "--features", dir.appendingPathComponent("none").path, "--out", bundle + "2"])
        XCTAssertExit(noStore, 1)
        XCTAssertExit(try Graft.run(["evaluate", "--bundle", dir.appendingPathComponent("none").path, "--data", reviews]), 1)
    }

    func testFinetuneWritesABundleThatPredicts() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let photos = try CLIFixtures.photoTable().path
        let bundle = dir.appendingPathComponent("ft").path
        let run = try Graft.run(["finetune", "--data", photos, "--out", bundle, "--per-class", "5", "--epochs", "1", "--batch", "10",
                                 "--test-count", "10", "--unfreeze", "1", "--quiet"])
        XCTAssertExit(run, 0)
        XCTAssertTrue(run.stdout.contains("epoch  train loss"), run.transcript)
        XCTAssertTrue(run.stdout.contains("test accuracy"), run.transcript)
        XCTAssertTrue(FileManager.default.fileExists(atPath: bundle + "/bundle.json"), run.transcript)

        let predict = try Graft.run(["predict", "--bundle", bundle, "--json", CLIFixtures.photo("chelsea.png")])
        XCTAssertExit(predict, 0)
        let labels = ((try predict.json()["results"] as? [[String: Any]])?.first?["labels"] as? [[String: Any]] ?? []).compactMap { $0["label"] as? String }
        XCTAssertEqual(Set(labels), ["cat", "rocket"], predict.transcript)

        // Issue 21's options: augmentation by hand, AdaBN, and whether the probe was kept, in --json and the bundle.
        let tuned = dir.appendingPathComponent("ft-adabn").path
        let json = try Graft.run(["finetune", "--data", photos, "--out", tuned, "--per-class", "5", "--epochs", "1", "--batch", "10",
                                  "--test-count", "10", "--unfreeze", "1", "--augment", "flip", "--adapt-bn", "--json", "--quiet"])
        XCTAssertExit(json, 0)
        let summary = try json.json()
        XCTAssertNotNil(summary["keptWarmStart"] as? Bool, json.stdout)
        XCTAssertNotNil(summary["probe"] as? [String: Any], json.stdout)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tuned + "/bundle.json"))) as? [String: Any]
        let notes = manifest?["notes"] as? [String: String] ?? [:]
        XCTAssertTrue(notes["adaBN"]?.contains("batch norms re-estimated") == true, "\(notes)")
        XCTAssertEqual(notes["keptWarmStart"] != nil, summary["keptWarmStart"] as? Bool, "\(notes)")
        XCTAssertExit(try Graft.run(["finetune", "--data", photos, "--out", bundle, "--augment", "mixup"]), 64)

        XCTAssertExit(try Graft.run(["finetune", "--data", photos, "--out", bundle, "--unfreeze", "some"]), 64)
        XCTAssertExit(try Graft.run(["finetune", "--data", photos, "--out", bundle, "--optimizer", "rmsprop"]), 64)
        XCTAssertExit(try Graft.run(["finetune", "--data", photos, "--out", bundle, "--schedule", "step"]), 64)
    }

    func testFinetuneFindsItsLearningRateAndKeepsAStepBudget() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let photos = try CLIFixtures.photoTable().path
        let bundle = dir.appendingPathComponent("ft-auto").path
        let args = ["finetune", "--data", photos, "--out", bundle, "--per-class", "5", "--batch", "5", "--test-count", "10", "--unfreeze", "1"]
        let run = try Graft.run(args + ["--lr", "auto", "--steps", "3", "--patience", "0", "--json", "--quiet"])
        XCTAssertExit(run, 0)
        let summary = try run.json()
        let found = try XCTUnwrap(summary["learningRateRangeTest"] as? [String: Any], run.stdout)
        let suggested = try XCTUnwrap(found["suggested"] as? Double), breaking = try XCTUnwrap(found["breakingRate"] as? Double)
        XCTAssertEqual(suggested, breaking / 10, accuracy: 1e-6 * breaking)
        XCTAssertGreaterThan((found["points"] as? [Any])?.count ?? 0, 4)
        // 10 training photos in batches of 5: 3 steps are one epoch and one step of the next; the schedule peaks at the found rate.
        let history = try XCTUnwrap(summary["history"] as? [[String: Any]])
        XCTAssertEqual(history.count, 2, run.stdout)
        XCTAssertLessThanOrEqual(history.compactMap { $0["learningRate"] as? Double }.max() ?? .infinity, suggested * (1 + 1e-6))
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/bundle.json"))) as? [String: Any]
        XCTAssertTrue(((manifest?["notes"] as? [String: String])?["learningRate"])?.contains("range test") == true, "\(manifest ?? [:])")

        let text = try Graft.run(args + ["--out", dir.appendingPathComponent("ft-text").path, "--lr", "auto", "--steps", "1", "--quiet"])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.contains("learning-rate range test:"), text.transcript)
        for bad in [["--steps", "0"], ["--steps", "2", "--epochs", "1"], ["--lr", "fast"], ["--lr", "-1"]] {
            XCTAssertExit(try Graft.run(args + bad), 64)
        }
        XCTAssertExit(try Graft.run(["compare", "--steps", "2", "--epochs", "1"]), 64)

        // --unfreeze auto: 10 training photos are far below 5,000 images, so the new head alone trains on the warm start.
        let auto = try Graft.run(args.filter { $0 != "--unfreeze" && $0 != "1" } + ["--out", dir.appendingPathComponent("ft-depth").path,
                                 "--unfreeze", "auto", "--epochs", "1", "--json", "--quiet"])
        XCTAssertExit(auto, 0)
        let strategy = try XCTUnwrap(try auto.json()["strategy"] as? [String: Any], auto.stdout)
        XCTAssertEqual(strategy["unfreeze"] as? Int, 0, auto.stdout)
        XCTAssertEqual(try auto.json()["trainableParameters"] as? Int, 1280 * 2 + 2, auto.stdout)   // Lite0's head: 1,280 features, 2 classes
        let depthNotes = (try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("ft-depth/bundle.json"))) as? [String: Any])?["notes"] as? [String: String]
        XCTAssertEqual(depthNotes?["unfreeze"], "auto: 0 blocks for 10 training items")
        XCTAssertExit(try Graft.run(args + ["--unfreeze", "auto", "--task", "regression", "--targets", "x.csv"]), 64)
        XCTAssertExit(try Graft.run(args + ["--unfreeze", "deep"]), 64)
        XCTAssertExit(try Graft.run(["compare", "--unfreeze", "auto", "--strategies", "heads,finetune"]), 64)
        XCTAssertExit(try Graft.run(["compare", "--unfreeze", "-1"]), 64)
    }

    /// `--frozen-precision`: MiniLM's frozen layers run as at inference in int8 while the last trains, recorded in the
    /// bundle; an image network refuses int8 (exit 1, before any work), and an unknown precision is a usage error.
    func testFinetuneWithAFrozenTrunkInInt8() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let reviews = try CLIFixtures.reviewTable().path
        let bundle = dir.appendingPathComponent("ft-int8").path
        let run = try Graft.run(["finetune", "--data", reviews, "--out", bundle, "--per-class", "5", "--steps", "2", "--batch", "5",
                                 "--test-count", "10", "--unfreeze", "1", "--frozen-precision", "int8", "--json", "--quiet"])
        XCTAssertExit(run, 0)
        XCTAssertEqual((try run.json()["history"] as? [Any])?.count, 1, run.stdout)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/bundle.json"))) as? [String: Any]
        XCTAssertTrue(((manifest?["notes"] as? [String: String])?["frozenTrunkPrecision"])?.hasPrefix("int8") == true, "\(manifest ?? [:])")
        let photos = try CLIFixtures.photoTable().path
        let image = try Graft.run(["finetune", "--data", photos, "--out", dir.appendingPathComponent("ft-image").path, "--per-class", "5",
                                   "--unfreeze", "1", "--frozen-precision", "int8", "--quiet"])
        XCTAssertExit(image, 1)
        XCTAssertTrue(image.stderr.contains("quantizes dynamically"), image.transcript)
        XCTAssertExit(try Graft.run(["finetune", "--data", reviews, "--out", bundle, "--frozen-precision", "fp16"]), 64)
    }

    func testTrainFromScratch() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let photos = try CLIFixtures.photoTable().path
        let bundle = dir.appendingPathComponent("scratch").path
        let run = try Graft.run(["train", "--from-scratch", "--data", photos, "--out", bundle, "--per-class", "5", "--epochs", "1",
                                 "--test-count", "10", "--quiet"])
        XCTAssertExit(run, 0)
        XCTAssertTrue(run.stdout.contains("test accuracy"), run.transcript)
        XCTAssertTrue(FileManager.default.fileExists(atPath: bundle + "/bundle.json"), run.transcript)
        let json = try Graft.run(["train", "--from-scratch", "--data", photos, "--out", bundle, "--per-class", "5", "--epochs", "1",
                                  "--test-count", "10", "--quiet", "--json"])
        XCTAssertExit(json, 0)
        XCTAssertEqual(try json.json()["bundle"] as? String, bundle)

        let noFlag = try Graft.run(["train", "--data", photos, "--out", bundle])
        XCTAssertExit(noFlag, 64)
        XCTAssertTrue(noFlag.stderr.contains("--from-scratch"), noFlag.transcript)
    }

    func testCompareFeatureStrategies() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let reviews = try CLIFixtures.reviewTable().path
        let run = try Graft.run(["compare", "--data", reviews, "--strategies", "logreg,svm", "--per-class", "5", "--validation-per-class", "1",
                                 "--test-count", "8", "--work", dir.appendingPathComponent("work").path, "--quiet"])
        XCTAssertExit(run, 0)
        for name in ["logistic regression", "linear SVM"] { XCTAssertTrue(run.stdout.contains(name), run.transcript) }
        XCTAssertFalse(run.stdout.contains("scratch"), run.transcript)

        // --precision int8: the feature rows on MiniLM's int8 features, said in the row's detail; an image network
        // without a calibration is refused before any row runs; an unknown precision is a usage error.
        let int8 = try Graft.run(["compare", "--data", reviews, "--strategies", "logreg", "--per-class", "5", "--validation-per-class", "1",
                                  "--test-count", "8", "--work", dir.appendingPathComponent("work8").path, "--precision", "int8", "--json", "--quiet"])
        XCTAssertExit(int8, 0)
        let rows = try XCTUnwrap(try int8.json()["outcomes"] as? [[String: Any]], int8.stdout)
        XCTAssertEqual(rows.count, 1)
        XCTAssertTrue((rows.first?["detail"] as? String)?.hasSuffix(", int8 features") == true, int8.stdout)
        let photos = try CLIFixtures.photoTable().path
        let image = try Graft.run(["compare", "--data", photos, "--per-class", "5", "--precision", "int8", "--quiet"])
        XCTAssertExit(image, 1)
        XCTAssertTrue(image.stderr.contains("no int8 calibration"), image.transcript)
        XCTAssertExit(try Graft.run(["compare", "--precision", "int4"]), 64)

        let bad = try Graft.run(["compare", "--data", reviews, "--strategies", "logreg,bogus"])
        XCTAssertExit(bad, 64)
        XCTAssertTrue(bad.stderr.contains("bogus"), bad.transcript)
    }

    /// Issue 14's conventions in the commands being rewritten: enumerated options rejected by the
    /// parser (so before any work, with the values listed in --help) and `--json` a flag.
    func testTrainingCommandsFollowTheConventions() throws {
        let none = CLIFixtures.temporaryDirectory().appendingPathComponent("none").path
        for (command, option, values) in [
            (["fit", "--features", none, "--out", none], "--head", "logreg, svm"),
            (["evaluate", "--bundle", none, "--data", "digits"], "--split", "train, test"),
            (["extract", "--data", "digits", "--limit", "1", "--out", none], "--split", "train, test"),
            (["finetune", "--data", "digits", "--out", none], "--optimizer", "sgd, adamw"),
            (["train", "--from-scratch", "--data", "digits", "--out", none], "--schedule", "cosine, one-cycle, constant"),
            (["compare"], "--strategies", "scratch, logreg, svm, prototype, knn"),
        ] {
            let bad = try Graft.run(command + [option, "bogus"])
            XCTAssertExit(bad, 64)
            XCTAssertTrue(bad.stderr.contains("bogus"), bad.transcript)
            let help = try Graft.run([command[0], "--help"])
            XCTAssertTrue(help.stdout.contains(values), "\(command[0]) --help lists \(option)'s values: \(help.stdout)")
        }
        for command in ["extract", "fit", "evaluate", "finetune", "train", "compare"] {
            let help = try Graft.run([command, "--help"]).stdout
            XCTAssertTrue(help.contains("--json"), "\(command) has --json")
            XCTAssertFalse(help.contains("--json <"), "\(command)'s --json is a flag (stdout), not a file option")
        }
    }
}
