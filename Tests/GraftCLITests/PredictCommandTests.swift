import Foundation
import XCTest

/// `graft predict` on scikit-image photos with EfficientNet-Lite0: labels, JSON, and exit status 1
/// when an input fails (issue 15, item 8).
final class PredictCommandTests: XCTestCase {
    func testTopLabelsAsJSON() throws {
        let run = try Graft.run(["predict", "--top", "3", "--json", CLIFixtures.photo("chelsea.png"), CLIFixtures.photo("coffee.png")])
        XCTAssertExit(run, 0)
        let json = try run.json()
        XCTAssertEqual(json["model"] as? String, "efficientnet-lite0")
        XCTAssertEqual(json["failed"] as? Int, 0)
        let results = try XCTUnwrap(json["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { $0["input"] as? String }, [CLIFixtures.photo("chelsea.png"), CLIFixtures.photo("coffee.png")])
        let cat = try XCTUnwrap(results[0]["labels"] as? [[String: Any]])
        XCTAssertEqual(cat.count, 3)
        let probabilities = cat.compactMap { $0["probability"] as? Double }
        XCTAssertEqual(probabilities, probabilities.sorted(by: >))
        XCTAssertTrue((cat[0]["label"] as? String ?? "").contains("cat"), "Chelsea is a cat: \(run.stdout)")
        let coffee = try XCTUnwrap(results[1]["labels"] as? [[String: Any]])
        XCTAssertTrue(coffee.prefix(3).contains { ["espresso", "cup", "coffee mug"].contains($0["label"] as? String ?? "") }, run.stdout)
    }

    func testTextOutput() throws {
        let run = try Graft.run(["predict", "--top", "2", CLIFixtures.photo("chelsea.png")])
        XCTAssertExit(run, 0)
        let lines = run.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, run.transcript)
        XCTAssertEqual(String(lines[0]), CLIFixtures.photo("chelsea.png"))
        XCTAssertTrue(lines[1].contains("%"), run.transcript)
    }

    func testFailedInputsExitOneAndAreReportedOnStderr() throws {
        let broken = try CLIFixtures.notAnImage()
        let missing = CLIFixtures.temporaryDirectory().appendingPathComponent("missing.jpg").path
        let run = try Graft.run(["predict", "--json", CLIFixtures.photo("chelsea.png"), broken, missing])
        XCTAssertExit(run, 1)
        let json = try run.json()  // the results are still printed
        XCTAssertEqual(json["failed"] as? Int, 2)
        let results = try XCTUnwrap(json["results"] as? [[String: Any]])
        XCTAssertNotNil(results[0]["labels"])
        XCTAssertNotNil(results[1]["error"])
        XCTAssertNil(results[1]["labels"])
        XCTAssertTrue(run.stderr.contains("error: \(broken):"), run.transcript)
        XCTAssertTrue(run.stderr.contains("error: \(missing):"), run.transcript)
        XCTAssertTrue(run.stderr.contains("2 of 3 inputs failed"), run.transcript)

        // Every input failing is a failure too (it used to exit 0).
        let all = try Graft.run(["predict", broken])
        XCTAssertExit(all, 1)
        XCTAssertEqual(all.stdout, "", "item errors go to stderr")
        XCTAssertTrue(all.stderr.contains("1 of 1 inputs failed"), all.transcript)

        // --strict stops at the first one.
        let strict = try Graft.run(["predict", "--strict", broken, CLIFixtures.photo("chelsea.png")])
        XCTAssertExit(strict, 1)
        XCTAssertEqual(strict.stdout, "")
    }

    func testUsageErrors() throws {
        let photo = CLIFixtures.photo("chelsea.png")
        XCTAssertExit(try Graft.run(["predict"]), 64)
        XCTAssertExit(try Graft.run(["predict", "--top", "0", photo]), 64)
        XCTAssertExit(try Graft.run(["predict", "--top", "many", photo]), 64)
        // --arch goes with a weights file, and a weights file needs --arch.
        let arch = try Graft.run(["predict", "--arch", "resnet18", photo])
        XCTAssertExit(arch, 64)
        XCTAssertTrue(arch.stderr.contains("--arch"), arch.transcript)
        let weights = CLIFixtures.weightsFixtures.appendingPathComponent("tiny.safetensors").path
        let noArch = try Graft.run(["predict", "--model", weights, photo])
        XCTAssertExit(noArch, 64)
        XCTAssertTrue(noArch.stderr.contains("resnet18"), "lists the architectures: \(noArch.transcript)")
        XCTAssertExit(try Graft.run(["predict", "--model", weights, "--arch", "no-such-net", photo]), 64)
        // An unknown zoo name is an error naming the known ones.
        let unknown = try Graft.run(["predict", "--model", "no-such-model", photo])
        XCTAssertExit(unknown, 1)
        XCTAssertTrue(unknown.stderr.contains("efficientnet-lite0"), unknown.transcript)
    }

    /// `--model FILE --arch NAME`: the zoo's own weights file given as a file gives the zoo's answer.
    func testWeightsFileWithArch() throws {
        let doctor = try Graft.run(["doctor", "--json"]).json()
        let lite0 = try XCTUnwrap((doctor["models"] as? [[String: Any]])?.first { $0["name"] as? String == "efficientnet-lite0" })
        let path = try XCTUnwrap(lite0["path"] as? String)
        let photo = CLIFixtures.photo("chelsea.png")
        let fromFile = try Graft.run(["predict", "--model", path, "--arch", "efficientnet-lite0", "--json", photo])
        XCTAssertExit(fromFile, 0)
        let fromZoo = try Graft.run(["predict", "--json", photo])
        let labels = { (r: GraftRun) throws -> [String] in
            ((try r.json()["results"] as? [[String: Any]])?.first?["labels"] as? [[String: Any]] ?? []).compactMap { $0["label"] as? String }
        }
        XCTAssertEqual(try labels(fromFile), try labels(fromZoo))
        XCTAssertEqual(try labels(fromFile).count, 5)
    }
}
