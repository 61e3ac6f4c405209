import Foundation
import XCTest
import GraftWeights
@testable import GraftHub

/// torchvision-style weight files: the SHA-256 prefix in the name is checked,
/// the file lands in torch hub's checkpoint folder.
final class WeightFileDownloadTests: XCTestCase {
    /// A small real state dict (zip-format PyTorch file) from the weights fixtures.
    let stateDict = HubFixtures.repoRoot.appendingPathComponent("Tests/Fixtures/weights/checkpoint_zip.pth")

    func serve(_ files: [String: Data]) throws -> LoopbackServer {
        try LoopbackServer { request in
            guard let data = files[String(request.target.split(separator: "/").last ?? "")] else { return .init(status: 404) }
            return LoopbackServer.serve(data, request: request)
        }
    }

    func testURLWithHashPrefixInItsNameIsCheckedAndCached() throws {
        let data = try Data(contentsOf: stateDict)
        let name = "tiny-\(SHA256.hex(of: data).prefix(8)).pth"
        let server = try serve([name: data])
        defer { server.stop() }
        let tmp = try TemporaryFolder()
        let downloads = WeightFileDownloads(environment: tmp.environment())
        let url = URL(string: "\(server.baseURL)/models/\(name)")!
        let local = try downloads.file(at: url)
        XCTAssertEqual(try Data(contentsOf: local), data)
        XCTAssertEqual(try WeightFile.open(local).tensors.count, try WeightFile.open(stateDict).tensors.count)
        XCTAssertTrue(local.path.hasPrefix(tmp.url.appendingPathComponent("graft/downloads").path))
        // Second time: from the cache, no request.
        let count = server.requests.count
        XCTAssertEqual(try downloads.file(at: url), local)
        XCTAssertEqual(server.requests.count, count)
    }

    func testWrongHashPrefixIsRefusedAndNothingIsLeft() throws {
        let data = try Data(contentsOf: stateDict)
        let server = try serve(["tiny-00000000.pth": data])
        defer { server.stop() }
        let tmp = try TemporaryFolder()
        XCTAssertThrowsHubError(try WeightFileDownloads(environment: tmp.environment()).file(at: URL(string: "\(server.baseURL)/tiny-00000000.pth")!)) {
            if case let .hashMismatch(file, expected, _) = $0 { return file == "tiny-00000000.pth" && expected == "00000000..." } else { return false }
        }
        XCTAssertEqual(tmp.contents("graft/downloads").filter { $0.hasSuffix(".pth") || $0.hasSuffix(".incomplete") }, [])
    }

    /// `torchvision:resnet18` asks the (overridable) torchvision base URL for
    /// resnet18-f37072fd.pth and checks the f37072fd prefix: a file with another hash is refused.
    func testTorchvisionNameUsesItsPublishedFileAndHashPrefix() throws {
        let data = try Data(contentsOf: stateDict)
        let server = try serve(["resnet18-f37072fd.pth": data])
        defer { server.stop() }
        let tmp = try TemporaryFolder()
        let env = tmp.environment(endpoint: nil, ["GRAFT_TORCHVISION_BASE_URL": server.baseURL + "/models"])
        let resnet18 = try XCTUnwrap(TorchvisionWeights.named("resnet18"))
        XCTAssertThrowsHubError(try WeightFileDownloads(environment: env).torchvision(resnet18)) {
            if case let .hashMismatch(file, expected, _) = $0 { return file == "resnet18-f37072fd.pth" && expected == "f37072fd..." } else { return false }
        }
        XCTAssertEqual(server.requests.map(\.target), ["/models/resnet18-f37072fd.pth"])
        XCTAssertEqual(tmp.contents("torch/hub/checkpoints"), [])
        // A file torch hub already downloaded is used as is, online or offline.
        let checkpoints = tmp.url.appendingPathComponent("torch/hub/checkpoints")
        try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        try data.write(to: checkpoints.appendingPathComponent("resnet18-f37072fd.pth"))
        let offline = tmp.environment(endpoint: nil, ["GRAFT_OFFLINE": "1"])
        XCTAssertEqual(try WeightFileDownloads(environment: offline).torchvision(resnet18).lastPathComponent, "resnet18-f37072fd.pth")
        XCTAssertThrowsHubError(try WeightFileDownloads(environment: offline).torchvision(TorchvisionWeights.named("vgg16")!)) {
            if case let .notCached(r, looked) = $0 { return r == "torchvision:vgg16" && looked[0].hasSuffix("torch/hub/checkpoints/vgg16-397923af.pth") }
            return false
        }
        XCTAssertEqual(server.requests.count, 1)
    }

    func testSHA256MatchesKnownVectorsAndCoreutils() throws {
        XCTAssertEqual(SHA256.hex(of: Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(of: Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(of: Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Streaming in uneven pieces gives the same digest as one call.
        let bytes = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        var h = SHA256()
        var i = 0
        for step in [1, 63, 64, 65, 1000, 7] where i < bytes.count { h.update(bytes[i..<min(bytes.count, i + step)]); i += step }
        h.update(bytes[i...])
        XCTAssertEqual(h.finalizeHex(), SHA256.hex(of: bytes))
        // And against coreutils on a real file.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [stateDict.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        p.waitUntilExit()
        let reference = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
        XCTAssertEqual(try SHA256.hex(ofFileAt: stateDict), String(reference))
    }
}

final class ModelReferenceTests: XCTestCase {
    func testParsesHubTorchvisionAndURLReferences() throws {
        XCTAssertEqual(try ModelReference.parse("hf:sentence-transformers/all-MiniLM-L6-v2"),
                       .hub(repository: "sentence-transformers/all-MiniLM-L6-v2", revision: "main"))
        XCTAssertEqual(try ModelReference.parse("hf:BAAI/bge-small-en-v1.5@refs/pr/3"), .hub(repository: "BAAI/bge-small-en-v1.5", revision: "refs/pr/3"))
        XCTAssertEqual(try ModelReference.parse("hf:bert-base-uncased"), .hub(repository: "bert-base-uncased", revision: "main"))
        XCTAssertEqual(try ModelReference.parse("torchvision:vgg16"), .torchvision(TorchvisionWeights.named("vgg16")!))
        XCTAssertEqual(try ModelReference.parse("torchvision:mobilenet_v2")?.description, "torchvision:mobilenet_v2")
        XCTAssertEqual(try ModelReference.parse("https://example.org/w/resnet50-0676ba61.pth"), .url(URL(string: "https://example.org/w/resnet50-0676ba61.pth")!))
        XCTAssertNil(try ModelReference.parse("efficientnet-lite0"))
        XCTAssertNil(try ModelReference.parse("/models/mine.safetensors"))
        for bad in ["hf:", "hf:a/b/c", "hf:org/na me", "hf:org--x/y", "hf:org/name@", "hf:org/../x", "https://example.org/"] {
            XCTAssertThrowsHubError(try ModelReference.parse(bad)) { if case .invalidReference = $0 { return true } else { return false } }
        }
        XCTAssertThrowsHubError(try ModelReference.parse("torchvision:alexnet")) {
            $0.description == "torchvision:alexnet is not one Graft can load; available: vgg16, resnet18, resnet34, resnet50, mobilenet_v2"
        }
    }

    func testTorchvisionFileNamesCarryTheirHashPrefixes() {
        XCTAssertEqual(TorchvisionWeights.all.map(\.file), ["vgg16-397923af.pth", "resnet18-f37072fd.pth", "resnet34-b627a593.pth",
                                                            "resnet50-0676ba61.pth", "mobilenet_v2-b0353104.pth"])
        XCTAssertEqual(TorchvisionWeights.hashPrefix(inFileName: "efficientnet-lite0-57934424.pth"), "57934424")
        XCTAssertEqual(TorchvisionWeights.hashPrefix(inFileName: "mobilenet_v2-b0353104.pth"), "b0353104")
        XCTAssertNil(TorchvisionWeights.hashPrefix(inFileName: "model.safetensors"))
    }

    func testEnvironmentFollowsThePythonToolsVariables() {
        let e = HubEnvironment(["HOME": "/h"])
        XCTAssertEqual(e.hubCache.path, "/h/.cache/huggingface/hub")
        XCTAssertEqual(e.torchCheckpoints.path, "/h/.cache/torch/hub/checkpoints")
        XCTAssertEqual(e.hubEndpoint.absoluteString, "https://huggingface.co")
        XCTAssertEqual(e.torchvisionBaseURL.absoluteString, "https://download.pytorch.org/models")
        XCTAssertFalse(e.offline)
        XCTAssertEqual(HubEnvironment(["HOME": "/h", "HF_HOME": "/x"]).hubCache.path, "/x/hub")
        XCTAssertEqual(HubEnvironment(["HOME": "/h", "HF_HOME": "/x", "HF_HUB_CACHE": "/y"]).hubCache.path, "/y")
        XCTAssertEqual(HubEnvironment(["HOME": "/h", "XDG_CACHE_HOME": "/c"]).torchCheckpoints.path, "/c/torch/hub/checkpoints")
        XCTAssertEqual(HubEnvironment(["HOME": "/h", "TORCH_HOME": "/t"]).torchCheckpoints.path, "/t/hub/checkpoints")
        XCTAssertEqual(HubEnvironment(["HF_ENDPOINT": "http://127.0.0.1:8080/"]).hubEndpoint.absoluteString, "http://127.0.0.1:8080")
        XCTAssertTrue(HubEnvironment(["HF_HUB_OFFLINE": "1"]).offline)
        XCTAssertTrue(HubEnvironment(["GRAFT_OFFLINE": "true"]).offline)
        XCTAssertFalse(HubEnvironment(["GRAFT_OFFLINE": "0"]).offline)
        XCTAssertEqual(HubEnvironment(["HOME": "/nonexistent", "HF_TOKEN": "hf_x"]).hubToken, "hf_x")
        XCTAssertNil(HubEnvironment(["HOME": "/nonexistent"]).hubToken)
    }
}
