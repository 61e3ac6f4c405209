import Foundation
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights
import XCTest

/// `graft export` as a user runs it: a bundle from `extract` + `fit` written as ONNX and as safetensors,
/// the JSON report, and the errors (issue 23). Parity with ONNX Runtime is ONNXExportTests' job.
final class ExportCommandTests: XCTestCase {
    func testExportsABundleAsONNXAndSafetensors() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let bundle = try Self.digitsBundle(in: dir, head: "logreg")
        let onnx = dir.appendingPathComponent("digits.onnx").path
        let run = try Graft.run(["export", "--bundle", bundle, "--out", onnx, "--json"])
        XCTAssertExit(run, 0)
        let report = try run.json()
        XCTAssertEqual(report["format"] as? String, "onnx")
        XCTAssertEqual(report["inputs"] as? [String], ["pixels"])
        XCTAssertEqual(report["outputs"] as? [String], ["scores"])
        XCTAssertEqual(report["opset"] as? Int, 17)
        let size = try FileManager.default.attributesOfItem(atPath: onnx)[.size] as? Int
        XCTAssertEqual(report["bytes"] as? Int, size)
        let metadata = report["metadata"] as? [String: String] ?? [:]
        XCTAssertEqual(metadata["graft.classes"], #"["0","1","2","3","4","5","6","7","8","9"]"#)
        XCTAssertTrue(metadata["graft.preprocessing"]?.contains(#""input_size":224"#) ?? false, run.stdout)

        let text = try Graft.run(["export", "--bundle", bundle, "--out", onnx])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.hasPrefix("wrote \(onnx): ONNX opset 17"), text.transcript)

        // safetensors: the backbone's keys with the head as EfficientNet-Lite's own classifier `_fc`.
        let weights = dir.appendingPathComponent("digits.safetensors").path
        let st = try Graft.run(["export", "--bundle", bundle, "--format", "safetensors", "--out", weights, "--json"])
        XCTAssertExit(st, 0)
        XCTAssertEqual((try st.json()["metadata"] as? [String: String])?["graft.head"], "_fc")
        let file = try WeightFile.open(URL(fileURLWithPath: weights))
        XCTAssertEqual(file["_fc.weight"]?.shape, [10, 1280])
        // It loads strictly into the reference architecture with ten classes.
        let reference = EfficientNetLite(try .lite(0, numClasses: 10))
        try reference.load(Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, try Tensor(shape: $0.shape, values: $0.floats())) }),
                           strict: true, source: weights)
        XCTAssertEqual(try leftovers(in: dir), [])
    }

    func testErrors() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let bundle = try Self.digitsBundle(in: dir, head: "knn")
        let knn = try Graft.run(["export", "--bundle", bundle, "--out", dir.appendingPathComponent("k.onnx").path])
        XCTAssertExit(knn, 1)
        XCTAssertTrue(knn.stderr.contains("knn"), knn.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("k.onnx").path))

        let suffix = try Graft.run(["export", "--bundle", bundle, "--out", dir.appendingPathComponent("k.bin").path])
        XCTAssertExit(suffix, 64)
        XCTAssertTrue(suffix.stderr.contains(".onnx"), suffix.transcript)

        let missing = try Graft.run(["export", "--bundle", dir.appendingPathComponent("nope").path, "--out", dir.appendingPathComponent("n.onnx").path])
        XCTAssertExit(missing, 1)
        XCTAssertTrue(missing.stderr.contains("nope"), missing.transcript)
        XCTAssertEqual(try leftovers(in: dir), [])
    }

    /// Lite0 features of 30 digits (three of each), and a head fitted on them.
    static func digitsBundle(in dir: URL, head: String) throws -> String {
        let store = dir.appendingPathComponent("store").path, bundle = dir.appendingPathComponent("bundle-\(head)").path
        let extract = try Graft.run(["extract", "--model", "efficientnet-lite0", "--data", "digits", "--limit", "30",
                                     "--out", store, "--quiet"])
        XCTAssertExit(extract, 0)
        XCTAssertExit(try Graft.run(["fit", "--features", store, "--head", head, "--out", bundle] + (head == "knn" ? ["--k", "1"] : [])), 0)
        return bundle
    }

    private func leftovers(in dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
    }
}
