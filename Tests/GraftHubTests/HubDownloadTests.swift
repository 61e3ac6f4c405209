import Foundation
import XCTest
@testable import GraftHub

/// Downloads from a loopback Hub that answers like huggingface.co.
final class HubDownloadTests: XCTestCase {
    let repo = "sentence-transformers/all-MiniLM-L6-v2"

    /// The whole packaged MiniLM, through the real layout: blobs named by ETag,
    /// snapshot symlinks, refs/main; a second call only asks for metadata.
    func testFullDownloadOfPackagedMiniLMBuildsTheHuggingFaceCache() throws {
        let files = try HubFixtures.miniLMFiles()
        let hub = try FakeHub(repository: repo, files: files, lfs: ["model.safetensors"])
        defer { hub.stop() }
        let tmp = try TemporaryFolder()
        let env = tmp.environment(endpoint: hub.endpoint, ["HF_TOKEN": "hf_secret"])
        let snapshot = try HuggingFaceHub(environment: env).snapshot(repo, files: HubFixtures.textFiles)

        let root = env.hubCache.appendingPathComponent("models--sentence-transformers--all-MiniLM-L6-v2")
        XCTAssertEqual(snapshot.path, root.appendingPathComponent("snapshots/\(hub.commit)").path)
        XCTAssertEqual(try String(contentsOf: root.appendingPathComponent("refs/main"), encoding: .utf8), hub.commit)
        let wanted = HubFixtures.textFiles.required + HubFixtures.textFiles.optional
        for name in wanted {
            XCTAssertEqual(try Data(contentsOf: snapshot.appendingPathComponent(name)), files[name], name)
        }
        // LFS weights are stored under their SHA-256 (as huggingface_hub names them), linked relatively.
        let sha = FakeHub.sha256(files["model.safetensors"]!)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: snapshot.appendingPathComponent("model.safetensors").path),
                       "../../blobs/\(sha)")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: snapshot.appendingPathComponent("1_Pooling/config.json").path),
                       "../../../blobs/\(FakeHub.gitLikeETag(files["1_Pooling/config.json"]!))")
        XCTAssertEqual(try SHA256.hex(ofFileAt: root.appendingPathComponent("blobs/\(sha)")), sha)
        // The token goes to the Hub, never to the storage host the LFS redirect leads to.
        XCTAssertTrue(hub.server.requests.filter { $0.target.contains("/resolve/") }.allSatisfy { $0["Authorization"] == "Bearer hf_secret" })
        XCTAssertFalse(hub.storageRequests.isEmpty)
        XCTAssertTrue(hub.storageRequests.allSatisfy { $0["Authorization"] == nil })
        // Files after the first are asked for at the pinned commit.
        XCTAssertTrue(hub.server.requests.filter { $0.target.contains("/resolve/") }.dropFirst().allSatisfy { $0.target.contains("/resolve/\(hub.commit)/") })

        let before = hub.server.requests.count
        XCTAssertEqual(try HuggingFaceHub(environment: env).snapshot(repo, files: HubFixtures.textFiles), snapshot)
        XCTAssertTrue(hub.server.requests.dropFirst(before).allSatisfy { $0.method == "HEAD" }, "cached files are not fetched again")
        XCTAssertEqual(tmp.contents("hf/hub").filter { $0.hasSuffix(".incomplete") }, [])
    }

    /// The connection drops halfway through the weights; the next attempt asks for the rest with Range.
    func testResumesADroppedDownloadWithRange() throws {
        let files = try HubFixtures.tinyRepo()
        let hub = try FakeHub(repository: repo, files: files, lfs: ["model.safetensors"])
        defer { hub.stop() }
        hub.dropFirstGET = ["model.safetensors"]
        let tmp = try TemporaryFolder()
        let snapshot = try HuggingFaceHub(environment: tmp.environment(endpoint: hub.endpoint)).snapshot(repo, files: HubFixtures.textFiles)
        XCTAssertEqual(try Data(contentsOf: snapshot.appendingPathComponent("model.safetensors")), files["model.safetensors"])
        let gets = hub.storageRequests.filter { $0.method == "GET" }
        XCTAssertEqual(gets.count, 2)
        XCTAssertNil(gets[0]["Range"])
        XCTAssertEqual(gets[1]["Range"], "bytes=\(files["model.safetensors"]!.count / 2)-")
    }

    /// A download cut off in one run is resumed by the next run from its `.incomplete` file.
    func testResumesAnIncompleteFileLeftByAnEarlierRun() throws {
        let files = try HubFixtures.tinyRepo()
        let hub = try FakeHub(repository: repo, files: files, lfs: ["model.safetensors"])
        defer { hub.stop() }
        hub.alwaysDrop = ["model.safetensors"]
        let tmp = try TemporaryFolder()
        let env = tmp.environment(endpoint: hub.endpoint)
        let client = HTTPClient()
        client.maxAttempts = 1
        XCTAssertThrowsHubError(try HuggingFaceHub(environment: env, client: client).snapshot(self.repo, files: HubFixtures.textFiles)) {
            if case .network = $0 { return true } else { return false }
        }
        let sha = FakeHub.sha256(files["model.safetensors"]!)
        let partial = env.hubCache.appendingPathComponent("models--sentence-transformers--all-MiniLM-L6-v2/blobs/\(sha).incomplete")
        XCTAssertEqual(HTTPClient.size(of: partial), Int64(files["model.safetensors"]!.count / 2))

        hub.alwaysDrop = []
        let snapshot = try HuggingFaceHub(environment: env).snapshot(repo, files: HubFixtures.textFiles)
        XCTAssertEqual(try Data(contentsOf: snapshot.appendingPathComponent("model.safetensors")), files["model.safetensors"])
        XCTAssertEqual(hub.storageRequests.last?["Range"], "bytes=\(files["model.safetensors"]!.count / 2)-")
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial.path))
    }

    /// Bytes that do not hash to the LFS oid are refused and leave nothing of themselves behind.
    func testHashMismatchIsRefusedAndNothingIsCached() throws {
        let files = try HubFixtures.tinyRepo()
        let hub = try FakeHub(repository: repo, files: files, lfs: ["model.safetensors"])
        defer { hub.stop() }
        hub.corrupt = ["model.safetensors"]
        let tmp = try TemporaryFolder()
        let expected = FakeHub.sha256(files["model.safetensors"]!)
        XCTAssertThrowsHubError(try HuggingFaceHub(environment: tmp.environment(endpoint: hub.endpoint)).snapshot(self.repo, files: HubFixtures.textFiles)) {
            if case let .hashMismatch(file, e, actual) = $0 { return file == "model.safetensors" && e == expected && actual != expected }
            return false
        }
        let cached = tmp.contents("hf/hub/models--sentence-transformers--all-MiniLM-L6-v2")
        XCTAssertFalse(cached.contains { $0.contains(expected) }, "\(cached)")
        XCTAssertFalse(cached.contains { $0.hasSuffix(".incomplete") || $0.hasSuffix("model.safetensors") || $0.hasPrefix("refs") }, "\(cached)")
    }

    func testCorruptedSmallFileFailsItsGitBlobIdAndNothingIsCached() throws {
        let files = try HubFixtures.tinyRepo()
        let hub = try FakeHub(repository: repo, files: files, lfs: ["model.safetensors"])
        defer { hub.stop() }
        hub.corrupt = ["config.json"]
        let tmp = try TemporaryFolder()
        let expected = GitBlobSHA1.hex(of: files["config.json"]!)
        XCTAssertThrowsHubError(try HuggingFaceHub(environment: tmp.environment(endpoint: hub.endpoint)).snapshot(self.repo, files: HubFixtures.textFiles)) {
            if case let .hashMismatch(file, e, actual) = $0 { return file == "config.json" && e == expected && actual != expected }
            return false
        }
        let cached = tmp.contents("hf/hub/models--sentence-transformers--all-MiniLM-L6-v2")
        XCTAssertFalse(cached.contains { $0.contains(expected) || $0.hasSuffix(".incomplete") || $0.hasPrefix("refs") }, "\(cached)")
    }

    /// git's blob ids (`git hash-object`), checked against Python's hashlib: empty, one line, and
    /// 76,800 bytes fed in uneven pieces (the streaming path across block boundaries).
    func testGitBlobIdsMatchGit() {
        XCTAssertEqual(GitBlobSHA1.hex(of: Data()), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
        XCTAssertEqual(GitBlobSHA1.hex(of: Data("hello\n".utf8)), "ce013625030ba8dba906f756967f9e9ca394464a")
        let bytes = Data((0..<300).flatMap { _ in (0..<256).map { UInt8($0) } })
        var hasher = GitBlobSHA1(size: Int64(bytes.count))
        var offset = 0, step = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + step)
            hasher.update(bytes[offset..<end])
            offset = end; step = step * 3 + 1
        }
        XCTAssertEqual(hasher.finalizeHex(), "b0ae7e65ee352e982340b7abfee52b373b6d1673")
    }

    func testMissingFileAndRevisionAre404WithTheHubsReason() throws {
        let hub = try FakeHub(repository: repo, files: try HubFixtures.tinyRepo(), lfs: ["model.safetensors"])
        defer { hub.stop() }
        let tmp = try TemporaryFolder()
        let client = HuggingFaceHub(environment: tmp.environment(endpoint: hub.endpoint))
        XCTAssertThrowsHubError(try client.snapshot(self.repo, files: HubFileSet(required: ["config.json", "pytorch_model.bin"]))) {
            if case let .notFound(url, what) = $0 { return url.hasSuffix("/resolve/\(hub.commit)/pytorch_model.bin") && what.contains("file not found") }
            return false
        }
        XCTAssertThrowsHubError(try client.snapshot(self.repo, revision: "v9", files: HubFixtures.textFiles)) {
            if case let .notFound(_, what) = $0 { return what.contains("revision not found") && what.contains("@v9") } else { return false }
        }
        // A missing optional file is remembered as missing for that commit, as huggingface_hub does.
        _ = try client.snapshot(repo, files: HubFixtures.textFiles)
        XCTAssertTrue(client.cache.isKnownMissing(repo, commit: hub.commit, file: "tokenizer.json"))
    }

    func testGatedModelIs401UntilHFTokenIsSet() throws {
        let hub = try FakeHub(repository: repo, files: try HubFixtures.tinyRepo(), lfs: ["model.safetensors"])
        defer { hub.stop() }
        hub.requiredToken = "hf_right"
        let tmp = try TemporaryFolder()
        XCTAssertThrowsHubError(try HuggingFaceHub(environment: tmp.environment(endpoint: hub.endpoint)).snapshot(self.repo, files: HubFixtures.textFiles)) {
            guard case .unauthorized(_, hadToken: false) = $0 else { return false }
            return $0.description.contains("HF_TOKEN")
        }
        XCTAssertThrowsHubError(try HuggingFaceHub(environment: tmp.environment(endpoint: hub.endpoint, ["HF_TOKEN": "hf_wrong"])).snapshot(self.repo, files: HubFixtures.textFiles)) {
            if case .unauthorized(_, hadToken: true) = $0 { return true } else { return false }
        }
        // The token file `huggingface-cli login` writes counts too.
        try FileManager.default.createDirectory(at: tmp.url.appendingPathComponent("hf"), withIntermediateDirectories: true)
        try Data("hf_right\n".utf8).write(to: tmp.url.appendingPathComponent("hf/token"))
        XCTAssertNoThrow(try HuggingFaceHub(environment: tmp.environment(endpoint: hub.endpoint)).snapshot(repo, files: HubFixtures.textFiles))
    }

    func testUnknownRepositoryAndRateLimitAreClear() throws {
        let hub = try FakeHub(repository: repo, files: try HubFixtures.tinyRepo(), lfs: ["model.safetensors"])
        defer { hub.stop() }
        let tmp = try TemporaryFolder()
        let client = HuggingFaceHub(environment: tmp.environment(endpoint: hub.endpoint))
        XCTAssertThrowsHubError(try client.snapshot("nobody/nothing", files: HubFixtures.textFiles)) {
            if case .unauthorized = $0 { return true } else { return false }
        }
        hub.rateLimited = true
        XCTAssertThrowsHubError(try client.snapshot(self.repo, files: HubFixtures.textFiles)) {
            if case .rateLimited(_, retryAfter: "30") = $0 { return true } else { return false }
        }
    }

    /// GRAFT_OFFLINE=1 and HF_HUB_OFFLINE=1 answer from the cache or fail, with no request at all.
    func testOfflineModeNeverTouchesTheNetwork() throws {
        let files = try HubFixtures.tinyRepo()
        let hub = try FakeHub(repository: repo, files: files, lfs: ["model.safetensors"])
        defer { hub.stop() }
        let tmp = try TemporaryFolder()
        for flag in ["GRAFT_OFFLINE", "HF_HUB_OFFLINE"] {
            XCTAssertThrowsHubError(try HuggingFaceHub(environment: tmp.environment(endpoint: hub.endpoint, [flag: "1"])).snapshot(self.repo, files: HubFixtures.textFiles)) {
                guard case let .notCached(reference, _) = $0 else { return false }
                return reference == "hf:\(self.repo)" && $0.description.contains("GRAFT_OFFLINE")
            }
        }
        XCTAssertEqual(hub.server.requests.count, 0)
        let online = try HuggingFaceHub(environment: tmp.environment(endpoint: hub.endpoint)).snapshot(repo, files: HubFixtures.textFiles)
        let count = hub.server.requests.count
        for flag in ["GRAFT_OFFLINE", "HF_HUB_OFFLINE"] {
            let offline = try HuggingFaceHub(environment: tmp.environment(endpoint: hub.endpoint, [flag: "1"])).snapshot(repo, files: HubFixtures.textFiles)
            XCTAssertEqual(offline, online)
            XCTAssertEqual(try Data(contentsOf: offline.appendingPathComponent("model.safetensors")), files["model.safetensors"])
        }
        XCTAssertEqual(hub.server.requests.count, count)
        // Unreachable (not offline): the complete cached snapshot is used.
        let unreachable = tmp.environment(endpoint: "http://127.0.0.1:9")
        XCTAssertEqual(try HuggingFaceHub(environment: unreachable).snapshot(repo, files: HubFixtures.textFiles), online)
    }
}
