import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// Detection on the job path as processes: `graft finetune --task detect`, its bundle through
/// `graft evaluate` (mAP per class, `--json`) and `graft detect --bundle`, `graft compare --task detect`;
/// usage errors exit 64, bad label files exit 1 naming file and line.
final class DetectionCommandTests: XCTestCase {
    /// A YOLO folder of scikit-image photos, one `thing` box each: train/ (6), val/ (2), test/ (2).
    static func photoBoxes(_ dir: URL, badLabel: Bool = false) throws -> URL {
        let root = dir.appendingPathComponent("boxes")
        let parts = [("train", ["coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png", "astronaut.png", "horse.png"]),
                     ("val", ["camera.png", "coins.png"]), ("test", ["brick.png", "moon.png"])]
        for (part, photos) in parts {
            let folder = root.appendingPathComponent(part)
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("images"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("labels"), withIntermediateDirectories: true)
            try "thing\n".write(to: folder.appendingPathComponent("classes.txt"), atomically: true, encoding: .utf8)
            for (i, photo) in photos.enumerated() {
                try FileManager.default.copyItem(atPath: CLIFixtures.photo(photo), toPath: folder.appendingPathComponent("images/\(photo)").path)
                let stem = (photo as NSString).deletingPathExtension
                let line = badLabel && part == "train" && i == 1 ? "0 0.9 0.5 0.4 0.4" : "0 0.\(4 + i % 3) 0.5 0.3 0.4"
                try "# one object\n\(line)\n".write(to: folder.appendingPathComponent("labels/\(stem).txt"), atomically: true, encoding: .utf8)
            }
        }
        return root
    }

    func testFinetuneDetectWritesABundleThatEvaluatesAndDetects() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let data = try Self.photoBoxes(dir)
        let bundle = dir.appendingPathComponent("faces.bundle").path
        let train = try Graft.run(["finetune", "--task", "detect", "--data", data.path, "--unfreeze", "0", "--input-size", "64",
                                   "--epochs", "2", "--batch", "3", "--out", bundle, "--quiet", "--json"])
        XCTAssertExit(train, 0)
        let summary = try train.json()
        XCTAssertEqual((summary["history"] as? [Any])?.count, 2)
        XCTAssertNil(summary["test"], "no classification report")
        XCTAssertEqual(summary["trainableParameters"] as? Int, 512 * 18 + 18 + 256 * 18 + 18, "heads only")
        let test = try XCTUnwrap((summary["testMetrics"] as? [String: Any])?["detection"] as? [String: Any], train.stdout)
        XCTAssertEqual(test["images"] as? Int, 2)
        XCTAssertEqual(test["objects"] as? Int, 2)
        XCTAssertNotNil(test["map50"] as? Double)
        XCTAssertEqual((summary["split"] as? [String: Any])?["validation"] as? Int, 2)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/bundle.json"))) as? [String: Any]
        XCTAssertEqual(manifest?["task"] as? String, "detect")
        XCTAssertEqual(manifest?["classNames"] as? [String], ["thing"])
        XCTAssertEqual((manifest?["backbone"] as? [String: Any])?["inputSize"] as? Int, 64)

        // Text output: mAP in the epoch table and the test line.
        let text = try Graft.run(["finetune", "--task", "detect", "--data", data.path, "--unfreeze", "1", "--input-size", "64",
                                  "--epochs", "1", "--out", dir.appendingPathComponent("k1").path, "--quiet"])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.contains("train map50") && text.stdout.contains("val map50"), text.transcript)
        XCTAssertTrue(text.stdout.contains("test mAP@0.5 "), text.transcript)

        let evaluate = try Graft.run(["evaluate", "--bundle", bundle, "--data", data.path, "--json", "--quiet"])
        XCTAssertExit(evaluate, 0)
        let metrics = try XCTUnwrap(try evaluate.json()["detection"] as? [String: Any], evaluate.stdout)
        XCTAssertEqual(metrics["images"] as? Int, 2)
        XCTAssertEqual(((metrics["perClass"] as? [[String: Any]])?.first)?["name"] as? String, "thing")
        XCTAssertEqual(try XCTUnwrap(metrics["map50"] as? Double), try XCTUnwrap(test["map50"] as? Double), accuracy: 1e-9)
        let evaluateText = try Graft.run(["evaluate", "--bundle", bundle, "--data", data.path, "--quiet"])
        XCTAssertExit(evaluateText, 0)
        XCTAssertTrue(evaluateText.stdout.contains("mAP@0.5:0.95") && evaluateText.stdout.contains("AP@0.5"), evaluateText.transcript)

        let image = data.appendingPathComponent("test/images/brick.png").path
        let detect = try Graft.run(["detect", "--bundle", bundle, image, "--threshold", "0.01", "--json"])
        XCTAssertExit(detect, 0)
        let results = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(detect.stdout.utf8)) as? [[String: Any]], detect.stdout)
        XCTAssertEqual(results.first?["input"] as? String, image)
        for box in (results.first?["detections"] as? [[String: Any]]) ?? [] { XCTAssertEqual(box["label"] as? String, "thing") }
        XCTAssertExit(try Graft.run(["detect", "--bundle", bundle, "--cfg", "x.cfg", "--weights", "w", "--names", "n", image]), 64)
        // A detector predicts boxes, not labels: predict refuses it by name.
        let predict = try Graft.run(["predict", "--bundle", bundle, image])
        XCTAssertExit(predict, 1)
        XCTAssertTrue(predict.stderr.contains("detection bundle"), predict.transcript)
    }

    func testDetectionUsageAndDataErrors() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let bad = try Self.photoBoxes(dir, badLabel: true)
        let run = try Graft.run(["finetune", "--task", "detect", "--data", bad.path, "--input-size", "64", "--epochs", "1",
                                 "--out", dir.appendingPathComponent("b").path, "--quiet"])
        XCTAssertExit(run, 1)
        XCTAssertTrue(run.stderr.contains("chelsea.txt:2") && run.stderr.contains("outside the image"), run.transcript)
        // --input-size must be a multiple of 32 and goes with detection only; detection takes no --targets.
        XCTAssertExit(try Graft.run(["finetune", "--task", "detect", "--data", bad.path, "--input-size", "100", "--out", "x"]), 64)
        XCTAssertExit(try Graft.run(["finetune", "--data", bad.path, "--input-size", "64", "--out", "x"]), 64)
        XCTAssertExit(try Graft.run(["finetune", "--task", "detect", "--data", bad.path, "--targets", "t.csv", "--out", "x"]), 64)
        XCTAssertExit(try Graft.run(["compare", "--task", "detect", "--strategies", "logreg"]), 64)
    }

    func testCompareDetectTable() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let data = try Self.photoBoxes(dir)
        let run = try Graft.run(["compare", "--task", "detect", "--data", data.path, "--input-size", "64", "--epochs", "1",
                                 "--unfreeze", "2", "--work", dir.appendingPathComponent("work").path, "--json", "--quiet"])
        XCTAssertExit(run, 0)
        let result = try run.json()
        XCTAssertEqual(result["task"] as? String, "detect")
        let outcomes = try XCTUnwrap(result["outcomes"] as? [[String: Any]])
        XCTAssertEqual(outcomes.map { $0["strategy"] as? String }, ["from scratch", "fine-tune", "fine-tune"])
        XCTAssertEqual(outcomes.map { ($0["detail"] as? String)?.hasPrefix("last 0") == true }, [false, true, false])
        for o in outcomes { XCTAssertNotNil((o["metrics"] as? [String: Any])?["detection"], "\(o)") }
        let params = outcomes.compactMap { $0["trainableParameters"] as? Int }
        XCTAssertTrue(params[0] > params[2] && params[2] > params[1], "\(params)")
        let table = try Graft.run(["compare", "--task", "detect", "--data", data.path, "--input-size", "64", "--epochs", "1",
                                   "--strategies", "heads", "--work", dir.appendingPathComponent("work2").path, "--quiet"])
        XCTAssertExit(table, 0)
        XCTAssertTrue(table.stdout.contains("mAP@0.5") && table.stdout.contains("last 0 + head"), table.transcript)
    }

    /// `graft serve --detect BUNDLE` answers `POST /v1/detect` with the fine-tuned detector's own classes.
    func testServeAnswersDetectWithAFineTunedBundle() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let data = try Self.photoBoxes(dir)
        let detector = dir.appendingPathComponent("things.bundle").path
        XCTAssertExit(try Graft.run(["finetune", "--task", "detect", "--data", data.path, "--unfreeze", "0", "--input-size", "64",
                                     "--epochs", "1", "--batch", "3", "--out", detector, "--quiet"]), 0)
        let classifier = dir.appendingPathComponent("digits.bundle").path
        XCTAssertExit(try Graft.run(["train", "--from-scratch", "--data", "digits", "--epochs", "1", "--per-class", "2",
                                     "--quiet", "--out", classifier]), 0)
        // int8 needs a calibrated network: the bundle as trained is refused; `graft quantize --bundle` makes a copy that runs.
        let image = data.appendingPathComponent("test/images/brick.png").path
        let refused = try Graft.run(["detect", "--bundle", detector, "--precision", "int8", image])
        XCTAssertExit(refused, 1)
        XCTAssertTrue(refused.stderr.contains("no int8 calibration") && refused.stderr.contains("graft quantize --bundle"), refused.transcript)
        let quantized = dir.appendingPathComponent("things.int8").path
        let quantize = try Graft.run(["quantize", "--bundle", detector, "--data", data.path, "--out", quantized, "--json", "--quiet"])
        XCTAssertExit(quantize, 0)
        XCTAssertEqual(try quantize.json()["usage"] as? String, "graft detect --bundle \(quantized) --precision int8")
        XCTAssertEqual(try quantize.json()["items"] as? Int, 6)
        let int8 = try Graft.run(["detect", "--bundle", quantized, "--precision", "int8", "--threshold", "0.0001", "--json", image])
        XCTAssertExit(int8, 0)
        XCTAssertTrue(int8.stdout.contains("\"thing\""), int8.transcript)
        // In fp32 the copy evaluates exactly as the original.
        let evaluate = { (bundle: String) in try Graft.run(["evaluate", "--bundle", bundle, "--data", data.path, "--json", "--quiet"]) }
        XCTAssertEqual(try evaluate(quantized).stdout, try evaluate(detector).stdout)
        // Usage errors: a bundle and a model, a bundle written to a .safetensors file.
        XCTAssertExit(try Graft.run(["quantize", "--bundle", detector, "--model", "yolov3-tiny", "--data", data.path, "--out", quantized]), 64)
        XCTAssertExit(try Graft.run(["quantize", "--bundle", detector, "--data", data.path, "--out", quantized + ".safetensors"]), 64)

        // int8 needs a quantized detector: refused before a port is bound, naming the fix.
        let uncalibrated = try Graft.run(["serve", "--bundle", classifier, "--detect", "yolov3-tiny", "--detect-precision", "int8",
                                          "--port", "0"], timeout: 60)
        XCTAssertExit(uncalibrated, 1)
        XCTAssertTrue(uncalibrated.stderr.contains("no int8 calibration") && uncalibrated.stderr.contains("graft quantize"), uncalibrated.transcript)
        let server = try Graft.start(["serve", "--bundle", classifier, "--detect", detector, "--port", "0"])
        defer { server.process.terminate(); _ = server.finish() }
        var port: Int?
        for _ in 0..<600 where port == nil && server.process.isRunning {  // up to 60 s for the announcement
            let log = (try? String(contentsOf: server.errURL, encoding: .utf8)) ?? ""
            if let r = log.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) { port = Int(log[r].split(separator: ":").last!) }
            usleep(100_000)
        }
        let bound = try XCTUnwrap(port, "graft serve announced no port")
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(bound)/v1/detect?threshold=0.0001")!)
        request.httpMethod = "POST"
        request.setValue("image/png", forHTTPHeaderField: "Content-Type")
        request.httpBody = try Data(contentsOf: data.appendingPathComponent("test/images/brick.png"))
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var answer: (Data?, Int?)
        URLSession.shared.dataTask(with: request) { body, response, _ in
            answer = (body, (response as? HTTPURLResponse)?.statusCode); done.signal()
        }.resume()
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(answer.1, 200)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: answer.0 ?? Data()) as? [String: Any])
        XCTAssertEqual(json["model"] as? String, detector)
        let boxes = try XCTUnwrap(json["detections"] as? [[String: Any]])
        XCTAssertFalse(boxes.isEmpty, "a threshold of 1e-4 keeps boxes")
        for box in boxes { XCTAssertEqual(box["label"] as? String, "thing") }
    }
}
