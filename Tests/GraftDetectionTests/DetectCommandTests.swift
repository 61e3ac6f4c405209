import Foundation
import GraftData
import GraftKernels
import XCTest

/// `graft detect` run as a process, as a user runs it.
final class DetectCommandTests: XCTestCase {
    /// `.build/<config>/graft` beside the test bundle (`swift test` builds every product), or `GRAFT_EXECUTABLE`.
    static let executable: URL = {
        if let path = ProcessInfo.processInfo.environment["GRAFT_EXECUTABLE"] { return URL(fileURLWithPath: path) }
        var candidates = [Bundle.main.bundleURL.deletingLastPathComponent(), Bundle.main.bundleURL]
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.insert(bundle.bundleURL.deletingLastPathComponent(), at: 0)
        }
        return candidates.map { $0.appendingPathComponent("graft") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0].appendingPathComponent("graft")
    }()

    static func graft(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let dir = try DetectionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit, "graft \(arguments) died of a signal")
        return (process.terminationStatus, try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }

    func testJSONBoxesAndDrawnImages() throws {
        let draw = try DetectionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: draw) }
        let photos = ["coffee.png", "motorcycle_left.png", "camera.png"].map { DetectionFixtures.photos.appendingPathComponent($0).path }
        let run = try Self.graft(["detect", "--model", "yolov3-tiny"] + photos + ["--json", "--draw", draw.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let results = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]], run.stdout)
        XCTAssertEqual(results.map { $0["input"] as? String }, photos)
        let coffee = try XCTUnwrap(results[0]["detections"] as? [[String: Any]])
        XCTAssertEqual(coffee.map { $0["label"] as? String }, ["cup"])
        // The reference (Tests/Fixtures/detection/yolov3_tiny_reference.json): cup 0.6398 at 244, 5, 180 x 102 or so.
        let cup = coffee[0]
        XCTAssertEqual(try XCTUnwrap(cup["score"] as? Double), 0.64, accuracy: 0.01)
        for key in ["x", "y", "w", "h"] { XCTAssertNotNil(cup[key] as? Double, key) }
        XCTAssertEqual((results[1]["detections"] as? [[String: Any]])?.first?["label"] as? String, "motorbike")
        XCTAssertEqual((results[2]["detections"] as? [[String: Any]])?.compactMap { $0["label"] as? String }, ["person", "person"])
        // One annotated PNG per input, the input's size, with box pixels drawn.
        for name in ["coffee", "motorcycle_left", "camera"] {
            let png = draw.appendingPathComponent("\(name).png")
            let image = try ImageDecoder().decode(contentsOf: png)
            let original = try ImageDecoder().decode(contentsOf: DetectionFixtures.photos.appendingPathComponent(
                name == "camera" ? "camera.png" : "\(name).png"))
            XCTAssertEqual([image.width, image.height], [original.width, original.height])
            XCTAssertNotEqual(image.pixels, original.pixels, "\(name): nothing drawn")
        }
    }

    /// `--precision`: bf16 finds the same boxes where the CPU has AVX-512 bf16 and is refused (exit 1, saying why)
    /// where it does not; int8 is refused everywhere (no calibration for detectors); an unknown precision is a usage
    /// error (exit 64).
    func testPrecision() throws {
        let coffee = DetectionFixtures.photos.appendingPathComponent("coffee.png").path
        let bf16 = try Self.graft(["detect", coffee, "--precision", "bf16", "--json"])
        if Precision.bf16.isSupported {
            XCTAssertEqual(bf16.status, 0, bf16.stderr)
            let results = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bf16.stdout.utf8)) as? [[String: Any]])
            let boxes = try XCTUnwrap(results[0]["detections"] as? [[String: Any]])
            XCTAssertEqual(boxes.map { $0["label"] as? String }, ["cup"])
            XCTAssertEqual(try XCTUnwrap(boxes[0]["score"] as? Double), 0.64, accuracy: 0.02, "bf16 moves the score a little")
        } else {
            XCTAssertEqual(bf16.status, 1)
            XCTAssertTrue(bf16.stderr.contains("precision bf16 is not available"), bf16.stderr)
            XCTAssertTrue(bf16.stdout.isEmpty, "nothing detected: refused before loading")
        }
        let int8 = try Self.graft(["detect", coffee, "--precision", "int8"])
        XCTAssertEqual(int8.status, 1)
        XCTAssertTrue(int8.stderr.contains("precision int8 is not available: detectors have no int8 calibration"), int8.stderr)
        XCTAssertEqual(try Self.graft(["detect", coffee, "--precision", "fp16"]).status, 64)
        XCTAssertEqual(try Self.graft(["detect", coffee, "--precision", "fp32"]).status, 0)
    }

    func testUnreadableInputFailsTheRunButNotTheOthers() throws {
        let dir = try DetectionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("broken.png")
        try Data("not a png".utf8).write(to: bad)
        let good = DetectionFixtures.photos.appendingPathComponent("coffee.png").path
        let run = try Self.graft(["detect", bad.path, good, "--json"])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.contains("1 of 2 inputs failed"), run.stderr)
        let results = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        XCTAssertNotNil(results[0]["error"] as? String)
        XCTAssertEqual((results[1]["detections"] as? [[String: Any]])?.count, 1)

        let text = try Self.graft(["detect", good, "--threshold", "0.5"])
        XCTAssertEqual(text.status, 0)
        XCTAssertTrue(text.stdout.contains("cup"), text.stdout)
        XCTAssertNotEqual(try Self.graft(["detect", good, "--threshold", "2"]).status, 0)
        XCTAssertNotEqual(try Self.graft(["detect", good, "--model", "efficientnet-lite0"]).status, 0)
    }
}
