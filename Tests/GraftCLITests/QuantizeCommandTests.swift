import Foundation
import XCTest

/// `graft quantize` and `--precision int8` as processes (docs/PRECISION.md): the quantized model file, its JSON
/// report, predict/extract with it in int8, and the typed refusals (a model without calibration, a text model,
/// bad options). Also under `DNNL_MAX_CPU_ISA=AVX2`, where oneDNN has no VNNI and Graft quantizes weights to 7 bits.
final class QuantizeCommandTests: XCTestCase {
    static let photoNames = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
                             "hubble_deep_field.jpg", "retina.jpg", "ihc.png", "color.png", "logo.png"]

    /// A CSV of the ten colour photos (one class): the calibration data.
    func photoTable(_ dir: URL) throws -> String {
        var csv = "path,label\n"
        for name in Self.photoNames { csv += "\(CLIFixtures.photo(name)),photo\n" }
        let url = dir.appendingPathComponent("photos.csv")
        try csv.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func top1(_ run: GraftRun) throws -> [String] {
        ((try run.json()["results"] as? [[String: Any]]) ?? []).map {
            (($0["labels"] as? [[String: Any]])?.first?["label"] as? String) ?? ""
        }
    }

    func testQuantizeThenPredictAndExtractInInt8() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let out = dir.appendingPathComponent("lite0.int8.safetensors").path
        let quantize = try Graft.run(["quantize", "--model", "efficientnet-lite0", "--data", photoTable(dir), "--items", "10",
                                      "--out", out, "--json", "--quiet"])
        XCTAssertExit(quantize, 0)
        let report = try quantize.json()
        XCTAssertEqual(report["architecture"] as? String, "efficientnet-lite0")
        XCTAssertEqual(report["items"] as? Int, 10)
        XCTAssertEqual(report["calibration"] as? String, "minmax")
        XCTAssertEqual(report["calibratedConvolutions"] as? Int, report["convolutions"] as? Int)
        XCTAssertGreaterThan(report["convolutions"] as? Int ?? 0, 40)
        XCTAssertEqual(report["weights"] as? String, "s8")
        func size(_ path: String) throws -> Int { try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber).intValue }
        XCTAssertEqual(report["bytes"] as? Int, try size(out))
        // Text output names the file, its weights and how to run it; --weights fp32 keeps the weights as they were.
        let small = dir.appendingPathComponent("small.safetensors").path
        let text = try Graft.run(["quantize", "--data", photoTable(dir), "--items", "4", "--out", small, "--weights", "fp32", "--quiet"])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.contains("--precision int8") && text.stdout.contains(small) && text.stdout.contains("fp32 weights"), text.transcript)
        // s8 weights: codes for every convolution and the classifier, under 30% of the bytes (Lite0: 27%).
        XCTAssertLessThan(Double(try size(out)), 0.3 * Double(try size(small)))

        // Photos of ImageNet classes whose fp32 top-1 leads by 12 points or more (the astronaut is none, and Chelsea's
        // 40% / 34% between two cat classes is a near tie that int8 swaps on AVX2 with s8 weights).
        let photos = ["coffee.png", "rocket.jpg", "motorcycle_left.png"].map(CLIFixtures.photo)
        let fp32 = try Graft.run(["predict", "--json", "--top", "1"] + photos)
        let int8 = try Graft.run(["predict", "--json", "--top", "1", "--model", out, "--arch", "efficientnet-lite0", "--precision", "int8"] + photos)
        XCTAssertExit(fp32, 0); XCTAssertExit(int8, 0)
        XCTAssertEqual(try int8.json()["precision"] as? String, "int8")
        XCTAssertEqual(try top1(fp32), try top1(int8), "same top-1: \(fp32.stdout)\n\(int8.stdout)")
        // A file with fp32 weights, run in fp32, is the original network; one with s8 weights keeps its top-1.
        let asFP32 = try Graft.run(["predict", "--json", "--top", "1", "--model", small, "--arch", "efficientnet-lite0"] + photos)
        XCTAssertEqual(try asFP32.json()["results"] as? NSArray, try fp32.json()["results"] as? NSArray)
        let roundedFP32 = try Graft.run(["predict", "--json", "--top", "1", "--model", out, "--arch", "efficientnet-lite0"] + photos)
        XCTAssertExit(roundedFP32, 0)
        XCTAssertEqual(try top1(fp32), try top1(roundedFP32), roundedFP32.stdout)
        // Without VNNI (oneDNN capped at AVX2): still runs, 7-bit weights, same top-1.
        let avx2 = try Graft.run(["predict", "--json", "--top", "1", "--model", out, "--arch", "efficientnet-lite0", "--precision", "int8"] + photos,
                                 environment: PrecisionCommandTests.avx2Only)
        XCTAssertExit(avx2, 0)
        XCTAssertEqual(try top1(fp32), try top1(avx2), "same top-1 on AVX2: \(avx2.stdout)")

        // extract in int8 -> the store and the bundle fitted on it record int8; evaluate runs it in int8 by default.
        let store = dir.appendingPathComponent("store").path, bundle = dir.appendingPathComponent("bundle").path
        let extract = try Graft.run(["extract", "--model", out, "--arch", "efficientnet-lite0", "--precision", "int8", "--data", "digits",
                                     "--limit", "48", "--batch", "16", "--out", store, "--json", "--quiet"])
        XCTAssertExit(extract, 0)
        XCTAssertEqual(try extract.json()["precision"] as? String, "int8")
        XCTAssertExit(try Graft.run(["fit", "--features", store, "--out", bundle]), 0)
        let evaluate = try Graft.run(["evaluate", "--bundle", bundle, "--data", "digits", "--limit", "48", "--quiet"])
        XCTAssertExit(evaluate, 0)
        XCTAssertTrue(evaluate.stdout.contains("on 48 examples (int8)"), evaluate.transcript)
        let inFP32 = try Graft.run(["evaluate", "--bundle", bundle, "--data", "digits", "--limit", "48", "--quiet", "--precision", "fp32"])
        XCTAssertExit(inFP32, 0)
        XCTAssertTrue(inFP32.stdout.contains("on 48 examples (fp32)"), inFP32.transcript)
        // A feature bundle has no network to calibrate: its backbone is quantized with --model (as above).
        let features = try Graft.run(["quantize", "--bundle", bundle, "--data", "digits", "--out", dir.appendingPathComponent("q").path])
        XCTAssertExit(features, 1)
        XCTAssertTrue(features.stderr.contains("is a feature bundle") && features.stderr.contains("graft quantize --model"), features.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("q").path))
    }

    func testRefusalsAndBadInput() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let photo = CLIFixtures.photo("chelsea.png")
        // int8 on a model without calibration: typed, names the fix.
        let plain = try Graft.run(["predict", "--precision", "int8", "--json", photo])
        XCTAssertExit(plain, 1)
        XCTAssertEqual(plain.stdout, "")
        XCTAssertTrue(plain.stderr.contains("precision int8 is not available") && plain.stderr.contains("graft quantize"), plain.transcript)
        let store = dir.appendingPathComponent("store").path
        let extract = try Graft.run(["extract", "--precision", "int8", "--data", "digits", "--limit", "4", "--out", store, "--quiet"])
        XCTAssertExit(extract, 1)
        XCTAssertTrue(extract.stderr.contains("no int8 calibration"), extract.transcript)
        // A text model needs no calibration (its int8 linears quantize per batch): said, exit 1, nothing written.
        let text = try Graft.run(["quantize", "--model", "all-minilm-l6-v2", "--data", photoTable(dir), "--out",
                                  dir.appendingPathComponent("t.safetensors").path])
        XCTAssertExit(text, 1)
        XCTAssertTrue(text.stderr.contains("need no calibration") && text.stderr.contains("--precision int8"), text.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("t.safetensors").path))
        // Usage errors: exit 64.
        XCTAssertExit(try Graft.run(["quantize", "--data", "digits", "--out", dir.appendingPathComponent("x.bin").path]), 64)
        XCTAssertExit(try Graft.run(["quantize", "--data", "digits", "--items", "0", "--out", dir.appendingPathComponent("x.safetensors").path]), 64)
        XCTAssertExit(try Graft.run(["quantize", "--out", dir.appendingPathComponent("x.safetensors").path]), 64)
        XCTAssertExit(try Graft.run(["quantize", "--data", "digits", "--weights", "int4", "--out", dir.appendingPathComponent("x.safetensors").path]), 64)
        // Data that does not exist: exit 1, nothing written.
        let missing = dir.appendingPathComponent("missing.safetensors").path
        let noData = try Graft.run(["quantize", "--data", dir.appendingPathComponent("nope").path, "--out", missing])
        XCTAssertExit(noData, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing))
    }

    /// An imported ONNX graph: `quantize` writes an ONNX file with the ranges in its metadata (s8 weights by default),
    /// `extract` runs it in int8, a head fitted on those features records int8 and `evaluate` runs the bundle so; the
    /// graph without calibration and a non-ONNX output are refused.
    func testQuantizeAnONNXGraphThenExtractFitAndEvaluateInInt8() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let graph = CLIFixtures.repoRoot.appendingPathComponent("Tests/Fixtures/onnx/resnet-basic.onnx").path
        let out = dir.appendingPathComponent("resnet.int8.onnx").path
        let onnx = ["--model", graph, "--preprocess", "imagenet"]
        let quantize = try Graft.run(["quantize"] + onnx + ["--data", "digits", "--items", "32", "--out", out, "--json", "--quiet"])
        XCTAssertExit(quantize, 0)
        let report = try quantize.json()
        XCTAssertEqual(report["architecture"] as? String, "onnx")
        XCTAssertEqual(report["weights"] as? String, "s8")
        XCTAssertEqual(report["items"] as? Int, 32)
        XCTAssertEqual(report["calibratedConvolutions"] as? Int, 20)
        XCTAssertEqual(report["convolutions"] as? Int, 20)
        let bytes = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: out)[.size] as? NSNumber).intValue
        XCTAssertEqual(report["bytes"] as? Int, bytes)
        XCTAssertTrue((report["usage"] as? String ?? "").contains("--model \(out) --preprocess imagenet --precision int8"), quantize.transcript)
        let fp32 = dir.appendingPathComponent("t.onnx").path
        let text = try Graft.run(["quantize"] + onnx + ["--data", "digits", "--items", "8", "--weights", "fp32", "--out", fp32, "--quiet"])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.contains("onnx with 20 of 20 convolutions calibrated for int8 on 8 items (minmax, fp32 weights"), text.transcript)
        let fp32Bytes = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: fp32)[.size] as? NSNumber).intValue
        XCTAssertLessThan(Double(bytes), 0.3 * Double(fp32Bytes), "s8 weights: a quarter of the bytes and a little")

        let store = dir.appendingPathComponent("store").path
        let extract = try Graft.run(["extract", "--model", out, "--preprocess", "imagenet", "--layer", "/Flatten_output_0", "--precision", "int8",
                                     "--data", "digits", "--limit", "60", "--out", store, "--json", "--quiet"])
        XCTAssertExit(extract, 0)
        XCTAssertEqual(try extract.json()["precision"] as? String, "int8", extract.transcript)
        XCTAssertEqual(try extract.json()["dimension"] as? Int, 64, extract.transcript)
        let bundle = dir.appendingPathComponent("bundle").path
        XCTAssertExit(try Graft.run(["fit", "--features", store, "--out", bundle]), 0)
        let evaluate = try Graft.run(["evaluate", "--bundle", bundle, "--data", "digits", "--limit", "40", "--json", "--quiet"])
        XCTAssertExit(evaluate, 0)
        XCTAssertEqual(try evaluate.json()["precision"] as? String, "int8", "the bundle runs in the precision its head was fitted with")

        // The graph as imported has no calibration: typed, names the command that makes one.
        let plain = try Graft.run(["extract"] + onnx + ["--precision", "int8", "--data", "digits", "--limit", "4",
                                   "--out", dir.appendingPathComponent("p").path, "--quiet"])
        XCTAssertExit(plain, 1)
        XCTAssertTrue(plain.stderr.contains("graft quantize --model \(graph) --preprocess imagenet"), plain.transcript)
        // A .safetensors output, --preprocess with --bundle: usage errors; no preprocessing: exit 1.
        XCTAssertExit(try Graft.run(["quantize"] + onnx + ["--data", "digits", "--out", dir.appendingPathComponent("s.safetensors").path]), 64)
        XCTAssertExit(try Graft.run(["quantize", "--bundle", bundle, "--preprocess", "imagenet", "--data", "digits", "--out", dir.appendingPathComponent("b2").path]), 64)
        let noPrep = try Graft.run(["quantize", "--model", graph, "--data", "digits", "--out", dir.appendingPathComponent("n.onnx").path])
        XCTAssertExit(noPrep, 1)
        XCTAssertTrue(noPrep.stderr.contains("--preprocess"), noPrep.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("n.onnx").path))
    }
}
