import Foundation
import GraftData
import GraftModels
import GraftTensor
import GraftWeights
import XCTest

/// `graft inspect model.onnx`, `graft extract --model model.onnx` and `graft finetune --model model.onnx
/// --unfreeze-from NODE` as processes, on the ResNet export of Tests/Fixtures/onnx (fixtures/onnx/make_onnx_fixtures.py),
/// then `fit` on its features, `predict` with the fine-tuned bundle, `export` of it as ONNX, and `compare` on the graph.
final class OnnxCommandTests: XCTestCase {
    static let resnet = CLIFixtures.repoRoot.appendingPathComponent("Tests/Fixtures/onnx/resnet-basic.onnx").path
    static let flatten = "/Flatten_output_0"
    static let layer2 = "/layer2/layer2.1/relu_1/Relu_output_0"

    func testInspectListsGraphAndCutPoints() throws {
        let run = try Graft.run(["inspect", Self.resnet])
        XCTAssertExit(run, 0)
        XCTAssertTrue(run.stdout.contains("graph: opset 17"), run.transcript)
        XCTAssertTrue(run.stdout.contains("input  x [?, 3, ?, ?]"), run.transcript)
        XCTAssertTrue(run.stdout.contains("\(Self.layer2)  (Relu)"), run.transcript)
        XCTAssertTrue(run.stdout.contains("fc.weight"), "weights still listed: \(run.transcript)")
        XCTAssertTrue(run.stdout.hasPrefix("graph: opset 17"), "the graph comes first: \(run.transcript)")
        let json = try Graft.run(["inspect", Self.resnet, "--json"])
        XCTAssertExit(json, 0)
        let report = try json.json()
        let cuts = (report["cutPoints"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String }
        XCTAssertTrue(cuts.contains(Self.flatten) && cuts.contains("logits"), json.transcript)
        XCTAssertEqual(report["unsupportedOperators"] as? [String], [])
        XCTAssertEqual((report["weights"] as? [String: Any])?["format"] as? String, "onnx")
    }

    func testExtractWithoutPreprocessingIsAClearError() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let run = try Graft.run(["extract", "--model", Self.resnet, "--data", "digits", "--limit", "8", "--out", dir.appendingPathComponent("s").path, "--quiet"])
        XCTAssertNotEqual(run.status, 0, run.transcript)
        XCTAssertTrue(run.stderr.contains("--preprocess"), run.transcript)
        let bad = try Graft.run(["extract", "--model", Self.resnet, "--preprocess", "nonsense", "--data", "digits", "--limit", "8",
                                 "--out", dir.appendingPathComponent("t").path, "--quiet"])
        XCTAssertNotEqual(bad.status, 0, bad.transcript)
        XCTAssertTrue(bad.stderr.contains("imagenet"), bad.transcript)
        let badLayer = try Graft.run(["extract", "--model", Self.resnet, "--preprocess", "imagenet", "--layer", "nope", "--data", "digits",
                                      "--limit", "8", "--out", dir.appendingPathComponent("u").path, "--quiet"])
        XCTAssertNotEqual(badLayer.status, 0, badLayer.transcript)
        XCTAssertTrue(badLayer.stderr.contains("nope"), badLayer.transcript)
        // --preprocess belongs to ONNX models: a zoo model carries its own (usage error).
        let notOnnx = try Graft.run(["extract", "--model", "efficientnet-lite0", "--preprocess", "imagenet", "--data", "digits",
                                     "--limit", "8", "--out", dir.appendingPathComponent("v").path, "--quiet"])
        XCTAssertExit(notOnnx, 64)
        XCTAssertTrue(notOnnx.stderr.contains("--preprocess goes with an ONNX --model"), notOnnx.transcript)
    }

    /// Default cut (the graph output, 10 logits), a flatten cut and a 4-D map average-pooled; then fit.
    func testExtractAtCutPointsThenFit() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let data = ["--data", "digits", "--limit", "60", "--quiet"]
        for (layer, dimension) in [(nil, 10), (Self.flatten, 64), (Self.layer2, 16)] as [(String?, Int)] {
            let store = dir.appendingPathComponent("store-\(dimension)").path
            let run = try Graft.run(["extract", "--model", Self.resnet, "--preprocess", "imagenet", "--out", store, "--json"]
                                    + (layer.map { ["--layer", $0] } ?? []) + data)
            XCTAssertExit(run, 0)
            guard run.status == 0 else { continue }
            XCTAssertEqual(try run.json()["dimension"] as? Int, dimension, run.transcript)
            XCTAssertEqual(try run.json()["examples"] as? Int, 60, run.transcript)
        }
        let bundle = dir.appendingPathComponent("bundle").path
        let fit = try Graft.run(["fit", "--features", dir.appendingPathComponent("store-64").path, "--out", bundle])
        XCTAssertExit(fit, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: bundle + "/bundle.json"), fit.transcript)
    }

    /// Layer4 and a new head trained through the job path; the bundle records the file, preprocessing and node, and predicts.
    func testFinetuneFromANodeWritesABundleThatPredicts() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let photos = try CLIFixtures.photoTable().path
        let bundle = dir.appendingPathComponent("onnx-ft").path
        let node = "/layer4/layer4.0/conv1/Conv"
        let common = ["--model", Self.resnet, "--preprocess", "imagenet", "--data", photos, "--per-class", "5", "--epochs", "1",
                      "--batch", "10", "--test-count", "10", "--quiet"]
        let run = try Graft.run(["finetune", "--unfreeze-from", node, "--out", bundle, "--json"] + common)
        XCTAssertExit(run, 0)
        guard run.status == 0 else { return }
        // layer4's 5 convolutions (weight + bias) and the head (64 x 2 + 2).
        XCTAssertEqual(try run.json()["trainableParameters"] as? Int, 64 * 32 * 9 + 3 * 64 * 64 * 9 + 64 * 32 + 5 * 64 + (64 * 2 + 2), run.stdout)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/bundle.json"))) as? [String: Any]
        let backbone = manifest?["backbone"] as? [String: Any] ?? [:]
        XCTAssertEqual(backbone["unfreezeFrom"] as? String, node)
        XCTAssertEqual(backbone["preprocess"] as? String, "imagenet")
        let predict = try Graft.run(["predict", "--bundle", bundle, "--json", CLIFixtures.photo("chelsea.png")])
        XCTAssertExit(predict, 0)
        let labels = ((try predict.json()["results"] as? [[String: Any]])?.first?["labels"] as? [[String: Any]] ?? []).compactMap { $0["label"] as? String }
        XCTAssertEqual(Set(labels), ["cat", "rocket"], predict.transcript)

        // Exported as one ONNX graph (the file's nodes to the head's input with the trained initializers, pooling, the
        // new head, softmax): run by Graft's importer on the photo as the recipe in its metadata says, it gives the
        // probabilities `predict` printed.
        let onnx = dir.appendingPathComponent("ft.onnx").path
        let export = try Graft.run(["export", "--bundle", bundle, "--format", "onnx", "--out", onnx, "--json"])
        XCTAssertExit(export, 0)
        let exported = try export.json()
        XCTAssertEqual(exported["inputs"] as? [String], ["pixels"], export.stdout)
        XCTAssertEqual(exported["outputs"] as? [String], ["scores"], export.stdout)
        let metadata = exported["metadata"] as? [String: String] ?? [:]
        XCTAssertEqual(metadata["graft.source"], "resnet-basic.onnx")
        XCTAssertEqual(metadata["graft.unfreeze_from"], node)
        let prep = try OnnxPreprocessing.resolve("imagenet", inputSize: nil)
        let image = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: CLIFixtures.photo("chelsea.png")))
        let nhwc = try Tensor(shape: [1, prep.inputSize, prep.inputSize, 3], values: prep.apply(image))
        let scores = try XCTUnwrap(try OnnxModel(contentsOf: URL(fileURLWithPath: onnx)).run(["pixels": nhwc.permuted([0, 3, 1, 2])])["scores"])
        let printed = ((try predict.json()["results"] as? [[String: Any]])?.first?["labels"] as? [[String: Any]] ?? [])
        for entry in printed {
            let column = entry["label"] as? String == "cat" ? 0 : 1
            let p = try XCTUnwrap((entry["probability"] as? NSNumber)?.floatValue)
            XCTAssertEqual(scores.values[column], p, accuracy: 1e-5, "exported graph vs predict, \(entry)")
        }

        // A node the graph lacks: named, with the valid ones listed.
        let bad = try Graft.run(["finetune", "--unfreeze-from", "/layer9/Conv", "--out", dir.appendingPathComponent("bad").path] + common)
        XCTAssertNotEqual(bad.status, 0, bad.transcript)
        XCTAssertTrue(bad.stderr.contains("/layer9/Conv") && bad.stderr.contains(node), bad.transcript)
        // No node and a block count: the error says how to name one.
        let blocks = try Graft.run(["finetune", "--unfreeze", "2", "--out", dir.appendingPathComponent("blocks").path] + common)
        XCTAssertNotEqual(blocks.status, 0, blocks.transcript)
        XCTAssertTrue(blocks.stderr.contains("--unfreeze-from"), blocks.transcript)
        // --unfreeze-from belongs to ONNX models (usage error).
        XCTAssertExit(try Graft.run(["finetune", "--model", "efficientnet-lite0", "--unfreeze-from", node, "--data", photos,
                                     "--out", dir.appendingPathComponent("zoo").path]), 64)
    }

    /// `graft compare` on an imported graph: the feature head at the graph's output and the fine-tune from a node, side by side.
    func testCompareRunsAnImportedGraph() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let photos = try CLIFixtures.photoTable().path
        let node = "/layer4/layer4.0/conv1/Conv"
        let common = ["compare", "--model", Self.resnet, "--preprocess", "imagenet", "--data", photos, "--per-class", "5", "--epochs", "1",
                      "--test-count", "10", "--quiet", "--json"]
        let run = try Graft.run(common + ["--unfreeze-from", node, "--strategies", "logreg,finetune", "--work", dir.appendingPathComponent("w").path])
        XCTAssertExit(run, 0)
        guard run.status == 0 else { return }
        let outcomes = try run.json()["outcomes"] as? [[String: Any]] ?? []
        XCTAssertEqual(outcomes.map { $0["strategy"] as? String }, ["features + logistic regression", "fine-tune"], run.stdout)
        XCTAssertTrue((outcomes.last?["detail"] as? String ?? "").hasPrefix("from \(node) + head"), run.stdout)
        for o in outcomes {   // a cat photo and a rocket photo per class: every strategy separates them
            XCTAssertGreaterThanOrEqual(o["accuracy"] as? Double ?? 0, 0.9, run.stdout)
        }
        // The default fine-tune counts blocks, which a graph has not: the error names --unfreeze-from.
        let blocks = try Graft.run(common + ["--strategies", "finetune", "--work", dir.appendingPathComponent("b").path])
        XCTAssertNotEqual(blocks.status, 0, blocks.transcript)
        XCTAssertTrue(blocks.stderr.contains("--unfreeze-from"), blocks.transcript)
        // --preprocess belongs to ONNX models (usage error).
        XCTAssertExit(try Graft.run(["compare", "--model", "efficientnet-lite0", "--preprocess", "imagenet", "--data", photos]), 64)
    }
}
