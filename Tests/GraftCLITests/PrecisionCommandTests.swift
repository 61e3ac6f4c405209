import Foundation
import XCTest

/// `--precision fp32|bf16|int8` on `predict`, `extract`, `embed`, `evaluate` (docs/PRECISION.md) as processes:
/// the JSON says which precision ran, a store and the bundle fitted on it record it, and a precision the CPU
/// cannot compute in is refused with the typed error and exit status 1. `DNNL_MAX_CPU_ISA=AVX2` makes any
/// CPU look like an AVX2-only one to oneDNN, so the refusal is tested on every machine.
final class PrecisionCommandTests: XCTestCase {
    /// Whether this CPU has the bf16 instructions oneDNN needs (as /proc/cpuinfo says), and oneDNN is not
    /// capped below them (`DNNL_MAX_CPU_ISA`, inherited by the processes these tests start).
    static let isBF16CPU: Bool = {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cap = ProcessInfo.processInfo.environment["DNNL_MAX_CPU_ISA"]?.uppercased() ?? "ALL"
        let capAllows = cap == "ALL" || cap.contains("BF16") || cap.contains("AMX")
        return capAllows && (info.contains(" avx512_bf16") || info.contains(" amx_bf16"))
    }()
    static let avx2Only = ["DNNL_MAX_CPU_ISA": "AVX2"]

    func assertRefused(_ run: GraftRun, _ precision: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertExit(run, 1, file: file, line: line)
        XCTAssertEqual(run.stdout, "", "nothing on stdout, --json included", file: file, line: line)
        XCTAssertTrue(run.stderr.contains("precision \(precision) is not available"), run.transcript, file: file, line: line)
    }

    func testUnsupportedPrecisionsAreRefusedWithTheTypedError() throws {
        let photo = CLIFixtures.photo("chelsea.png")
        let dir = CLIFixtures.temporaryDirectory()
        // bf16 on a CPU that oneDNN sees as AVX2-only.
        let predict = try Graft.run(["predict", "--precision", "bf16", "--json", photo], environment: Self.avx2Only)
        assertRefused(predict, "bf16")
        XCTAssertTrue(predict.stderr.contains("avx2"), "names what the CPU has: \(predict.transcript)")
        assertRefused(try Graft.run(["embed", "--precision", "bf16", "--json", "hello"], environment: Self.avx2Only), "bf16")
        let store = dir.appendingPathComponent("store").path
        assertRefused(try Graft.run(["extract", "--data", "digits", "--limit", "8", "--precision", "bf16", "--out", store, "--quiet"],
                                    environment: Self.avx2Only), "bf16")
        XCTAssertFalse(FileManager.default.fileExists(atPath: store), "refused before anything is written")
        // int8 for an image network needs a quantized model (QuantizeCommandTests); a text model runs it as it is
        // (testEmbedRunsInt8WithoutCalibration).
        // Not a precision at all: a usage error listing the values.
        let bad = try Graft.run(["predict", "--precision", "fp16", photo])
        XCTAssertExit(bad, 64)
        XCTAssertTrue(bad.stderr.contains("bf16"), bad.transcript)
        if Self.isBF16CPU {
            XCTAssertExit(try Graft.run(["embed", "--precision", "bf16", "hello"]), 0)
        } else {
            assertRefused(try Graft.run(["embed", "--precision", "bf16", "hello"]), "bf16")
        }
    }

    func testPredictAndEmbedInBF16AgreeWithFP32() throws {
        guard Self.isBF16CPU else { throw XCTSkip("no AVX-512 bf16 on this CPU: refusal tested above") }
        let photos = ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png"].map(CLIFixtures.photo)
        let fp32 = try Graft.run(["predict", "--json", "--top", "1"] + photos)
        let bf16 = try Graft.run(["predict", "--json", "--top", "1", "--precision", "bf16"] + photos)
        XCTAssertExit(fp32, 0); XCTAssertExit(bf16, 0)
        let (a, b) = (try fp32.json(), try bf16.json())
        XCTAssertEqual(a["precision"] as? String, "fp32")
        XCTAssertEqual(b["precision"] as? String, "bf16")
        func top(_ json: [String: Any]) -> [(String, Double)] {
            ((json["results"] as? [[String: Any]]) ?? []).map {
                let best = ($0["labels"] as? [[String: Any]])?.first
                return (best?["label"] as? String ?? "", best?["probability"] as? Double ?? -1)
            }
        }
        let (topA, topB) = (top(a), top(b))
        XCTAssertEqual(topA.map(\.0), topB.map(\.0), "same top-1 labels: \(fp32.stdout)\n\(bf16.stdout)")
        for (x, y) in zip(topA, topB) { XCTAssertEqual(x.1, y.1, accuracy: 0.03) }

        let texts = ["A cat sat on the mat.", "Terrible service, never again.", "The stock market fell sharply on Tuesday."]
        let e32 = try Graft.run(["embed", "--json"] + texts), e16 = try Graft.run(["embed", "--json", "--precision", "bf16"] + texts)
        XCTAssertExit(e32, 0); XCTAssertExit(e16, 0)
        XCTAssertEqual(try e16.json()["precision"] as? String, "bf16")
        let (v32, v16) = (try e32.json()["embeddings"] as? [[Double]] ?? [], try e16.json()["embeddings"] as? [[Double]] ?? [])
        XCTAssertEqual(v32.count, 3); XCTAssertEqual(v16.count, 3)
        for (x, y) in zip(v32, v16) {
            let dot = zip(x, y).reduce(0) { $0 + $1.0 * $1.1 }
            let cosine = dot / (x.reduce(0) { $0 + $1 * $1 }.squareRoot() * y.reduce(0) { $0 + $1 * $1 }.squareRoot())
            XCTAssertGreaterThanOrEqual(cosine, 0.999)
        }
    }

    /// extract --precision bf16 -> the store and the bundle fitted on it record bf16; evaluate and predict
    /// run the bundle in bf16 by default, in fp32 when asked; an AVX2-only CPU can still run it in fp32.
    func testBundleRecordsThePrecisionItsHeadWasFittedWith() throws {
        guard Self.isBF16CPU else { throw XCTSkip("no AVX-512 bf16 on this CPU: refusal tested above") }
        let dir = CLIFixtures.temporaryDirectory()
        let store = dir.appendingPathComponent("store").path, bundle = dir.appendingPathComponent("bundle").path
        let extract = try Graft.run(["extract", "--data", "digits", "--limit", "96", "--batch", "16", "--precision", "bf16",
                                     "--out", store, "--quiet", "--json"])
        XCTAssertExit(extract, 0)
        let summary = try extract.json()
        XCTAssertEqual(summary["precision"] as? String, "bf16")
        XCTAssertEqual((summary["source"] as? [String: Any])?["precision"] as? String, "bf16")
        // Resuming the store in another precision is a mismatch, not a silent mix.
        let mixed = try Graft.run(["extract", "--data", "digits", "--limit", "96", "--batch", "16", "--out", store, "--quiet"])
        XCTAssertExit(mixed, 1)
        XCTAssertTrue(mixed.stderr.contains("bf16"), mixed.transcript)

        XCTAssertExit(try Graft.run(["fit", "--features", store, "--out", bundle]), 0)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/bundle.json"))) as? [String: Any]
        XCTAssertEqual((manifest?["source"] as? [String: Any])?["precision"] as? String, "bf16", "\(manifest ?? [:])")

        let evaluate = try Graft.run(["evaluate", "--bundle", bundle, "--data", "digits", "--limit", "96", "--quiet"])
        XCTAssertExit(evaluate, 0)
        XCTAssertTrue(evaluate.stdout.contains("on 96 examples (bf16)"), evaluate.transcript)
        let inFP32 = try Graft.run(["evaluate", "--bundle", bundle, "--data", "digits", "--limit", "96", "--quiet", "--precision", "fp32",
                                    "--json"])
        XCTAssertExit(inFP32, 0)
        let bf16JSON = try Graft.run(["evaluate", "--bundle", bundle, "--data", "digits", "--limit", "96", "--quiet", "--json"])
        XCTAssertExit(bf16JSON, 0)
        let (acc32, acc16) = (try inFP32.json()["accuracy"] as? Double ?? -1, try bf16JSON.json()["accuracy"] as? Double ?? -1)
        XCTAssertEqual(acc32, acc16, accuracy: 0.03, "a head fitted on bf16 features scores fp32 ones about as well")
        XCTAssertGreaterThan(acc16, 0.8)

        // On a CPU without bf16 the bundle's own precision is refused; fp32 still runs it.
        XCTAssertExit(try Graft.run(["predict", "--bundle", bundle, "--json", CLIFixtures.photo("chelsea.png")]), 0)
        assertRefused(try Graft.run(["evaluate", "--bundle", bundle, "--data", "digits", "--limit", "8", "--quiet"],
                                    environment: Self.avx2Only), "bf16")
        let fallback = try Graft.run(["predict", "--bundle", bundle, "--precision", "fp32", "--json", CLIFixtures.photo("chelsea.png")],
                                     environment: Self.avx2Only)
        XCTAssertExit(fallback, 0)
        XCTAssertEqual(try fallback.json()["precision"] as? String, "fp32")
        // serve checks before it binds a port: the bundle's bf16 on an AVX2-only CPU, int8 anywhere.
        assertRefused(try Graft.run(["serve", "--bundle", bundle, "--port", "0"], environment: Self.avx2Only, timeout: 60), "bf16")
        assertRefused(try Graft.run(["serve", "--bundle", bundle, "--port", "0", "--precision", "int8"], timeout: 60), "int8")
    }

    /// `embed --precision int8`: MiniLM's linears quantize their inputs per batch, so the packaged model runs int8 with
    /// no calibration; the vectors stay at cosine >= 0.99 to fp32 (and are not fp32's), on this CPU and on one oneDNN
    /// sees as AVX2-only (7-bit weights, no int8 dot products).
    func testEmbedRunsInt8WithoutCalibration() throws {
        let texts = ["A cat sat on the mat.", "Terrible service, never again.", "The stock market fell sharply on Tuesday."]
        func vectors(_ precision: String, _ environment: [String: String] = [:]) throws -> [[Double]] {
            let run = try Graft.run(["embed", "--precision", precision, "--json"] + texts, environment: environment)
            XCTAssertExit(run, 0)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.transcript)
            XCTAssertEqual(json["precision"] as? String, precision, run.transcript)
            return try XCTUnwrap(json["embeddings"] as? [[Double]], run.transcript)
        }
        let fp32 = try vectors("fp32")
        for environment in [[:], Self.avx2Only] {
            let int8 = try vectors("int8", environment)
            XCTAssertEqual(int8.count, texts.count)
            for (a, b) in zip(fp32, int8) {
                let cosine = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (a.reduce(0) { $0 + $1 * $1 } * b.reduce(0) { $0 + $1 * $1 }).squareRoot()
                XCTAssertGreaterThanOrEqual(cosine, 0.99, "int8 vs fp32 \(environment)")
                XCTAssertLessThan(cosine, 0.999_999, "int8 really ran \(environment)")
            }
        }
    }
}
