import Foundation
import XCTest

/// `--version`, `doctor`, `models`, `inspect`, `neighbors`, `serve --help`: outputs, JSON and exit statuses.
final class InfoCommandTests: XCTestCase {
    func testVersionIsTheOneDoctorReports() throws {
        let version = try Graft.run(["--version"])
        XCTAssertExit(version, 0)
        let doctor = try Graft.run(["doctor", "--json"])
        XCTAssertExit(doctor, 0)
        let json = try doctor.json()
        XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), json["version"] as? String)
        XCTAssertTrue((json["version"] as? String ?? "").split(separator: ".").count == 3, doctor.transcript)
    }

    func testDoctorListsModelsDataAndArchitectures() throws {
        let run = try Graft.run(["doctor", "--json"])
        XCTAssertExit(run, 0)
        let json = try run.json()
        // fusedBlocksBF16 only where bf16 runs (JSON leaves out nil).
        let bf16Keys: Set<String> = PrecisionCommandTests.isBF16CPU ? ["fusedBlocksBF16"] : []
        XCTAssertEqual(Set(json.keys), Set(["version", "onednn", "isa", "threads", "fusedBlocks", "precisions", "graftHome", "models",
                                            "datasets", "architectures", "textArchitectures"]).union(bf16Keys))
        if PrecisionCommandTests.isBF16CPU {
            // AMX tiles where the CPU has them, else AVX512-BF16 dot products (every bf16 CPU has those).
            let env = ProcessInfo.processInfo.environment
            let kernel = env["GRAFT_BF16_FUSED_KERNEL"] == "0" ? "fp32"
                : cpuFlags().contains(" amx_bf16") && env["GRAFT_AMX"] != "0" ? "amx"
                : env["GRAFT_AVX512_BF16"] != "0" ? "avx512_bf16" : "fp32"
            XCTAssertEqual(json["fusedBlocksBF16"] as? String, kernel, run.transcript)
        }
        // bf16 where the CPU has AVX-512 bf16 (and oneDNN is not capped below it); int8 from AVX2 up (with a quantized model).
        let bf16: [String] = PrecisionCommandTests.isBF16CPU ? ["bf16"] : []
        let cpu = cpuFlags()
        let cap = ProcessInfo.processInfo.environment["DNNL_MAX_CPU_ISA"]?.uppercased() ?? "ALL"
        let int8: [String] = cpu.contains(" avx2") && !["SSE41", "AVX"].contains(cap) ? ["int8"] : []
        XCTAssertEqual(json["precisions"] as? [String], ["fp32"] + bf16 + int8, run.transcript)
        XCTAssertGreaterThan(json["threads"] as? Int ?? 0, 0)
        // Fused blocks by default only where the fused kernel has AVX-512 micro-kernels (unless
        // GRAFT_FUSED_BLOCK_POLICY says otherwise; its AVX2 ones lost to oneDNN's convolutions on session 18's EPYC).
        if ProcessInfo.processInfo.environment["GRAFT_FUSED_BLOCK_POLICY"] == nil {
            XCTAssertEqual(json["fusedBlocks"] as? Bool, cpu.contains(" avx512f"), run.transcript)
        }
        let models = try XCTUnwrap(json["models"] as? [[String: Any]])
        let lite0 = try XCTUnwrap(models.first { $0["name"] as? String == "efficientnet-lite0" })
        XCTAssertEqual(lite0["installed"] as? Bool, true, "make setup installs it")
        XCTAssertEqual(lite0["kind"] as? String, "image")
        let datasets = try XCTUnwrap(json["datasets"] as? [[String: Any]])
        XCTAssertEqual(Set(datasets.compactMap { $0["name"] as? String }), ["fashion-mnist", "digits", "rotten-tomatoes", "sample-photos", "imagenet-labels"])
        XCTAssertTrue((json["architectures"] as? [String] ?? []).contains("resnet18"))
        XCTAssertEqual(json["textArchitectures"] as? [String], ["bert"])

        let text = try Graft.run(["doctor"])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.contains("✓ efficientnet-lite0"), text.transcript)
        XCTAssertTrue(text.stdout.contains("--model FILE --arch"), text.transcript)
        XCTAssertEqual(text.stderr, "")
    }

    func testModelsListsTheZooAndArchitectures() throws {
        let run = try Graft.run(["models", "--json"])
        XCTAssertExit(run, 0)
        let json = try run.json()
        let models = try XCTUnwrap(json["models"] as? [[String: Any]])
        let lite0 = try XCTUnwrap(models.first { $0["name"] as? String == "efficientnet-lite0" })
        XCTAssertEqual(lite0["inputSize"] as? Int, 224)
        XCTAssertEqual(lite0["features"] as? Int, 1280)
        // EfficientNet-Lite0 with its 1000-way classifier: 4.65M (the reference package's count).
        XCTAssertEqual(Double(lite0["parameters"] as? Int ?? 0) / 1e6, 4.65, accuracy: 0.05)
        let minilm = try XCTUnwrap(models.first { $0["name"] as? String == "all-minilm-l6-v2" })
        XCTAssertEqual(minilm["features"] as? Int, 384)
        let architectures = try XCTUnwrap(json["architectures"] as? [[String: Any]])
        XCTAssertEqual(architectures.compactMap { $0["name"] as? String }.first, "efficientnet-lite0")
        XCTAssertTrue(architectures.contains { $0["name"] as? String == "resnet50" })
        XCTAssertNil(architectures[0]["cutPoints"], "cut points need --all")

        let text = try Graft.run(["models"])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.contains("efficientnet-lite0"), text.transcript)
        XCTAssertTrue(text.stdout.contains("architectures for your own weights (--arch)"), text.transcript)
    }

    func testInspect() throws {
        let tiny = CLIFixtures.weightsFixtures.appendingPathComponent("tiny.safetensors").path
        let run = try Graft.run(["inspect", tiny, "--json"])
        XCTAssertExit(run, 0)
        let json = try run.json()
        XCTAssertEqual(json["format"] as? String, "safetensors")
        let tensors = try XCTUnwrap(json["tensors"] as? [[String: Any]])
        XCTAssertEqual(json["tensorCount"] as? Int, tensors.count)
        XCTAssertEqual(json["totalBytes"] as? Int, tensors.reduce(0) { $0 + ($1["bytes"] as? Int ?? 0) })
        XCTAssertEqual(json["file"] as? String, tiny, "paths keep their slashes unescaped")

        let text = try Graft.run(["inspect", tiny])
        XCTAssertExit(text, 0)
        for t in tensors { XCTAssertTrue(text.stdout.contains(t["name"] as? String ?? "?"), text.transcript) }

        let evil = try Graft.run(["inspect", CLIFixtures.weightsFixtures.appendingPathComponent("evil_os_system.pkl").path])
        XCTAssertExit(evil, 1)
        XCTAssertEqual(evil.stdout, "")
        XCTAssertTrue(evil.stderr.contains("evil_os_system.pkl"), "the error names the file: \(evil.transcript)")

        XCTAssertExit(try Graft.run(["inspect"]), 64)
    }

    func testNeighbors() throws {
        let glove = CLIFixtures.weightsFixtures.appendingPathComponent("glove.txt").path
        let text = try Graft.run(["neighbors", "--vectors", glove, "--top", "2", try firstWord(glove)])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.hasPrefix("Nearest to"), text.transcript)

        let run = try Graft.run(["neighbors", "--vectors", glove, "--top", "2", "--json", try firstWord(glove)])
        XCTAssertExit(run, 0)
        let json = try run.json()
        XCTAssertEqual(json["query"] as? String, try firstWord(glove))
        let neighbors = try XCTUnwrap(json["neighbors"] as? [[String: Any]])
        XCTAssertEqual(neighbors.count, 2)
        let similarities = neighbors.compactMap { $0["similarity"] as? Double }
        XCTAssertEqual(similarities, similarities.sorted(by: >))
        XCTAssertTrue(similarities.allSatisfy { $0 <= 1.0001 && $0 >= -1.0001 })

        let unknown = try Graft.run(["neighbors", "--vectors", glove, "zzz-not-a-word"])
        XCTAssertExit(unknown, 1)
        XCTAssertTrue(unknown.stderr.contains("zzz-not-a-word"), unknown.transcript)
        XCTAssertExit(try Graft.run(["neighbors", "--vectors", glove, "--top", "0", "x"]), 64)
        XCTAssertExit(try Graft.run(["neighbors", "--vectors", glove, "--minus", "x", "y"]), 64)
    }

    func testServeHelp() throws {
        let run = try Graft.run(["serve", "--help"])
        XCTAssertExit(run, 0)
        XCTAssertTrue(run.stdout.contains("--bundle"), run.transcript)
        XCTAssertTrue(run.stdout.contains("/v1/predict"), run.transcript)
        let missing = try Graft.run(["serve"])
        XCTAssertExit(missing, 64)
        XCTAssertTrue(missing.stderr.contains("--bundle"), missing.transcript)
    }

    func testUnknownSubcommandAndOptionAreUsageErrors() throws {
        XCTAssertExit(try Graft.run(["no-such-command"]), 64)
        let run = try Graft.run(["doctor", "--no-such-flag"])
        XCTAssertExit(run, 64)
        XCTAssertTrue(run.stderr.contains("--no-such-flag"), run.transcript)
    }

    private func firstWord(_ glove: String) throws -> String {
        let line = try String(contentsOfFile: glove, encoding: .utf8).split(separator: "\n").first ?? ""
        return String(line.split(separator: " ").first ?? "")
    }
}

/// /proc/cpuinfo's text (empty where there is none).
func cpuFlags() -> String { (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "" }
