import Foundation
import XCTest
import GraftModels
import GraftWeights
@testable import GraftHub

/// `graft` as a process on Hub references: a Hugging Face cache built here in the
/// real layout, a loopback Hub reached through a loopback proxy, and clear errors.
final class HubCommandLineTests: XCTestCase {
    let repo = "sentence-transformers/all-MiniLM-L6-v2"
    let texts = ["A man is playing a guitar.", "Transfer learning reuses what a network already knows."]

    static var graft: URL {
        let candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
                          URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        return candidates.map { $0.appendingPathComponent("graft") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
            ?? candidates[0].appendingPathComponent("graft")
    }

    /// Runs graft with the caches in `tmp` and none of the caller's Hub, proxy or offline settings.
    static func run(_ arguments: [String], tmp: TemporaryFolder, _ extra: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        var env = ProcessInfo.processInfo.environment
        for k in ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE", "GRAFT_OFFLINE", "XDG_CACHE_HOME",
                  "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "ALL_PROXY", "all_proxy"] { env[k] = nil }
        env["HF_HOME"] = tmp.url.appendingPathComponent("hf").path
        env["TORCH_HOME"] = tmp.url.appendingPathComponent("torch").path
        env["GRAFT_THREADS"] = "1"
        for (k, v) in extra { env[k] = v }
        let p = Process()
        p.executableURL = Self.graft
        p.arguments = arguments
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// The vectors of `graft embed --json` (`{"model", "dimension", "count", "embeddings": [[...]]}`).
    func embeddings(_ json: String) throws -> [[Float]] {
        struct Report: Decodable { let embeddings: [[Float]] }
        return try JSONDecoder().decode(Report.self, from: Data(json.utf8)).embeddings
    }

    /// The layout huggingface_hub writes, built by hand from the packaged MiniLM files:
    /// blobs named by ETag (SHA-256 for the LFS weights), relative snapshot symlinks, refs/main.
    func buildHuggingFaceCache(in tmp: TemporaryFolder, repository: String, commit: String, edit: (String, Data) -> Data = { $1 }) throws {
        let fm = FileManager.default
        let root = tmp.url.appendingPathComponent("hf/hub/models--" + repository.replacingOccurrences(of: "/", with: "--"))
        for (name, original) in try HubFixtures.miniLMFiles() {
            let data = edit(name, original)
            let etag = name == "model.safetensors" ? FakeHub.sha256(data) : FakeHub.gitLikeETag(data)
            try fm.createDirectory(at: root.appendingPathComponent("blobs"), withIntermediateDirectories: true)
            try data.write(to: root.appendingPathComponent("blobs/\(etag)"))
            let link = root.appendingPathComponent("snapshots/\(commit)/\(name)")
            try fm.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
            let up = String(repeating: "../", count: name.split(separator: "/").count + 1)
            try fm.createSymbolicLink(atPath: link.path, withDestinationPath: "\(up)blobs/\(etag)")
        }
        try fm.createDirectory(at: root.appendingPathComponent("refs"), withIntermediateDirectories: true)
        try Data(commit.utf8).write(to: root.appendingPathComponent("refs/main"))
    }

    /// The acceptance: `graft embed --model hf:...` with no network, from a cache the
    /// Python tools would have written, gives the zoo model's embeddings.
    func testEmbedFromAHuggingFaceCacheWithNoNetworkMatchesTheZooModel() throws {
        let tmp = try TemporaryFolder()
        try buildHuggingFaceCache(in: tmp, repository: repo, commit: "c9745ed1d9f207416be6d2e6f8de32d1f16199bf")
        let zoo = try Self.run(["embed", "--json"] + texts, tmp: tmp)
        XCTAssertEqual(zoo.status, 0, zoo.err)
        for flags in [["HF_HUB_OFFLINE": "1"], ["GRAFT_OFFLINE": "1"], ["HF_ENDPOINT": "http://127.0.0.1:9"]] {
            let hub = try Self.run(["embed", "--model", "hf:\(repo)", "--json"] + texts, tmp: tmp, flags)
            XCTAssertEqual(hub.status, 0, hub.err)
            let a = try embeddings(zoo.out), b = try embeddings(hub.out)
            XCTAssertEqual(a.count, 2)
            XCTAssertEqual(b.map(\.count), [384, 384])
            XCTAssertEqual(zip(a.joined(), b.joined()).map { abs($0 - $1) }.max()!, 0, accuracy: 1e-6, "\(flags)")
        }
        let cached = try Self.run(["models", "--cached"], tmp: tmp)
        XCTAssertEqual(cached.status, 0, cached.err)
        XCTAssertTrue(cached.out.contains("hf:\(repo)"), cached.out)
        XCTAssertTrue(cached.out.contains("huggingface"), cached.out)
    }

    /// A first download through `http_proxy`: every request reaches the loopback proxy in
    /// proxy form for a host that does not resolve, and the model embeds like the zoo's.
    func testDownloadThroughAProxyFromTheEnvironment() throws {
        let hub = try FakeHub(repository: repo, files: try HubFixtures.miniLMFiles(), lfs: ["model.safetensors"])
        defer { hub.stop() }
        let tmp = try TemporaryFolder()
        let proxied = try Self.run(["embed", "--model", "hf:\(repo)", "--json"] + texts, tmp: tmp,
                              ["HF_ENDPOINT": "http://hub.invalid", "http_proxy": hub.endpoint])
        XCTAssertEqual(proxied.status, 0, proxied.err)
        let resolves = hub.server.requests.filter { $0.target.contains("/resolve/") }
        XCTAssertFalse(resolves.isEmpty)
        XCTAssertTrue(resolves.allSatisfy { $0.target.hasPrefix("http://hub.invalid/\(repo)/resolve/") }, "\(resolves.map(\.target))")
        let zoo = try Self.run(["embed", "--json"] + texts, tmp: tmp)
        XCTAssertEqual(zip(try embeddings(zoo.out).joined(), try embeddings(proxied.out).joined()).map { abs($0 - $1) }.max()!, 0, accuracy: 1e-6)
        // Now cached: offline gives the same.
        let offline = try Self.run(["embed", "--model", "hf:\(repo)", "--json"] + texts, tmp: tmp, ["GRAFT_OFFLINE": "1"])
        XCTAssertEqual(offline.out, proxied.out)
    }

    /// `graft models --download` fetches ahead of an offline job: the snapshot path and size in
    /// JSON, then the same answer offline with no request made.
    func testModelsDownloadFetchesIntoTheCacheAndAnswersOfflineAfterwards() throws {
        let files = try HubFixtures.miniLMFiles()
        let hub = try FakeHub(repository: repo, files: files, lfs: ["model.safetensors"])
        defer { hub.stop() }
        let tmp = try TemporaryFolder()
        struct Downloaded: Decodable { let reference, path: String; let bytes: Int64 }
        let first = try Self.run(["models", "--download", "hf:\(repo)", "--json"], tmp: tmp, ["HF_ENDPOINT": hub.endpoint])
        XCTAssertEqual(first.status, 0, first.err)
        let a = try JSONDecoder().decode(Downloaded.self, from: Data(first.out.utf8))
        XCTAssertEqual(a.reference, "hf:\(repo)")
        XCTAssertTrue(a.path.hasSuffix("snapshots/\(hub.commit)"), a.path)
        let wanted = Set(PretrainedReferences.textModelFiles.required + PretrainedReferences.textModelFiles.optional)
        XCTAssertEqual(a.bytes, Int64(files.filter { wanted.contains($0.key) }.values.map(\.count).reduce(0, +)))
        let requests = hub.server.requests.count
        let again = try Self.run(["models", "--download", "hf:\(repo)", "--json"], tmp: tmp, ["GRAFT_OFFLINE": "1"])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertEqual(try JSONDecoder().decode(Downloaded.self, from: Data(again.out.utf8)).path, a.path)
        XCTAssertEqual(hub.server.requests.count, requests)
        let text = try Self.run(["models", "--download", "hf:\(repo)"], tmp: tmp, ["GRAFT_OFFLINE": "1"])
        XCTAssertTrue(text.out.contains("hf:\(repo): ") && text.out.contains(a.path), text.out)
        let bad = try Self.run(["models", "--download", "not-a-reference"], tmp: tmp)
        XCTAssertEqual(bad.status, 64, bad.err)
        XCTAssertTrue(bad.err.contains("not a model reference"), bad.err)
    }

    func testClearErrorsForUncachedOfflineModelsAndUnsupportedArchitectures() throws {
        let tmp = try TemporaryFolder()
        let missing = try Self.run(["embed", "--model", "hf:\(repo)", "hello"], tmp: tmp, ["GRAFT_OFFLINE": "1"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("hf:\(repo) is not in the local caches and downloads are off"), missing.err)
        let vgg = try Self.run(["extract", "--model", "torchvision:vgg16", "--layer", "block5", "--pool", "flatten", "--data", "digits",
                           "--out", tmp.url.appendingPathComponent("store").path, "--limit", "4"], tmp: tmp, ["HF_HUB_OFFLINE": "1"])
        XCTAssertNotEqual(vgg.status, 0)
        XCTAssertTrue(vgg.err.contains("torchvision:vgg16 is not in the local caches") && vgg.err.contains("hub/checkpoints/vgg16-397923af.pth"), vgg.err)

        try buildHuggingFaceCache(in: tmp, repository: "someone/mpnet-encoder", commit: String(repeating: "a", count: 40)) { name, data in
            name == "config.json" ? Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"bert\"", with: "\"mpnet\"").utf8) : data
        }
        let mpnet = try Self.run(["embed", "--model", "hf:someone/mpnet-encoder", "hello"], tmp: tmp, ["GRAFT_OFFLINE": "1"])
        XCTAssertNotEqual(mpnet.status, 0)
        XCTAssertTrue(mpnet.err.contains("model_type 'mpnet'") && mpnet.err.contains("supported: bert"), mpnet.err)
    }
}

/// Image weights by URL (with `--arch`) and by `torchvision:` name, through `graft extract`.
final class ImageReferenceCommandLineTests: XCTestCase {
    /// A ResNet-18 state dict with torchvision's keys (seeded random weights: no ImageNet weights exist offline).
    func resnet18StateDict() throws -> Data {
        let model = try ImageModels.make("resnet18", seed: 7)
        let tensors = try model.stateDict().map { try StoredTensor(name: $0.0, shape: $0.1.shape, floats: $0.1.values) }
        let tmp = try TemporaryFolder()
        let url = tmp.url.appendingPathComponent("w.safetensors")
        try WeightFile(tensors: tensors).writeSafetensors(to: url)
        return try Data(contentsOf: url)
    }

    func shards(_ store: URL) throws -> [Data] {
        try FileManager.default.contentsOfDirectory(atPath: store.path).sorted().filter { $0.hasSuffix(".npy") || $0.hasSuffix(".bin") || $0.hasPrefix("shard") }
            .map { try Data(contentsOf: store.appendingPathComponent($0)) }
    }

    func testExtractFromAWeightsURLAndFromTorchHubsCacheGiveTheSameFeatures() throws {
        let weights = try resnet18StateDict()
        let name = "resnet18-\(SHA256.hex(of: weights).prefix(8)).safetensors"
        let server = try LoopbackServer { request in
            request.target == "/w/\(name)" ? LoopbackServer.serve(weights, request: request) : .init(status: 404)
        }
        defer { server.stop() }
        let tmp = try TemporaryFolder()
        let common = ["--data", "digits", "--limit", "6", "--quiet"]
        let noArch = try HubCommandLineTests.run(["extract", "--model", "\(server.baseURL)/w/\(name)", "--out", tmp.url.appendingPathComponent("x").path] + common, tmp: tmp)
        XCTAssertNotEqual(noArch.status, 0)
        XCTAssertTrue(noArch.err.contains("--arch"), noArch.err)
        let byURL = try HubCommandLineTests.run(["extract", "--model", "\(server.baseURL)/w/\(name)", "--arch", "resnet18",
                                 "--out", tmp.url.appendingPathComponent("a").path] + common, tmp: tmp)
        XCTAssertEqual(byURL.status, 0, byURL.err)
        XCTAssertTrue(byURL.out.contains("6 examples x 512 features"), byURL.out)
        XCTAssertEqual(server.requests.map(\.target), ["/w/\(name)"])

        // The same bytes where torch hub keeps torchvision's ResNet-18: `torchvision:resnet18` loads them offline.
        let checkpoints = tmp.url.appendingPathComponent("torch/hub/checkpoints")
        try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        try weights.write(to: checkpoints.appendingPathComponent("resnet18-f37072fd.pth"))
        let byName = try HubCommandLineTests.run(["extract", "--model", "torchvision:resnet18", "--out", tmp.url.appendingPathComponent("b").path] + common,
                                 tmp: tmp, ["GRAFT_OFFLINE": "1"])
        XCTAssertEqual(byName.status, 0, byName.err)
        let a = try shards(tmp.url.appendingPathComponent("a")), b = try shards(tmp.url.appendingPathComponent("b"))
        XCTAssertFalse(a.isEmpty)
        XCTAssertEqual(a, b)
        let cached = try HubCommandLineTests.run(["models", "--cached"], tmp: tmp)
        XCTAssertTrue(cached.out.contains("torchvision:resnet18") && cached.out.contains(name), cached.out)
    }
}
