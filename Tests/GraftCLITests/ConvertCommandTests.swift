import Foundation
import XCTest

/// `graft convert`: outputs, JSON, and no temporary file left after SIGTERM or SIGKILL (issue 15, item 8).
final class ConvertCommandTests: XCTestCase {
    func testConvertsAndReportsJSON() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let input = CLIFixtures.weightsFixtures.appendingPathComponent("checkpoint_zip.pth").path
        let out = dir.appendingPathComponent("c.safetensors").path
        let run = try Graft.run(["convert", input, out, "--json"])
        XCTAssertExit(run, 0)
        let json = try run.json()
        XCTAssertEqual(json["output"] as? String, out)
        XCTAssertEqual(json["format"] as? String, "pytorch-zip")

        // The written file lists the same tensors as the input.
        let before = try Graft.run(["inspect", input, "--json"]).json()
        let after = try Graft.run(["inspect", out, "--json"]).json()
        XCTAssertEqual(after["format"] as? String, "safetensors")
        XCTAssertEqual(json["tensors"] as? Int, before["tensorCount"] as? Int)
        XCTAssertEqual(json["bytes"] as? Int, after["totalBytes"] as? Int)
        let names = { (j: [String: Any]) in (j["tensors"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } }
        XCTAssertEqual(names(after), names(before))
        XCTAssertEqual(try leftovers(in: dir), [])

        let text = try Graft.run(["convert", input, out])
        XCTAssertExit(text, 0)
        XCTAssertTrue(text.stdout.hasPrefix("wrote \(out):"), text.transcript)
    }

    func testUsageAndReadErrors() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let bad = try Graft.run(["convert", CLIFixtures.weightsFixtures.appendingPathComponent("tiny.safetensors").path, dir.appendingPathComponent("x.bin").path])
        XCTAssertExit(bad, 64)
        XCTAssertTrue(bad.stderr.contains(".safetensors"), bad.transcript)
        let evil = try Graft.run(["convert", CLIFixtures.weightsFixtures.appendingPathComponent("evil_builtins_eval.pkl").path,
                                  dir.appendingPathComponent("x.safetensors").path])
        XCTAssertExit(evil, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.safetensors").path))
        XCTAssertEqual(try leftovers(in: dir), [])
    }

    /// SIGTERM while the output is being written: the process dies of SIGTERM, no output, no temporary file.
    func testSIGTERMLeavesNoTemporaryFile() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let input = try bigNpy(in: dir)
        let out = dir.appendingPathComponent("big.safetensors")
        let (run, sawTemp) = try convert(input, to: out, killWith: SIGTERM)
        guard sawTemp else { return XCTFail("the write finished before its temporary file was seen; make the input bigger") }
        // The signal is handled asynchronously: a release build may finish the rename first. Either way
        // the output is old-or-new and no temporary file is left.
        if run.killedBySignal {
            XCTAssertEqual(run.status, SIGTERM, run.transcript)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        } else {
            XCTAssertEqual(run.status, 0, run.transcript)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.path))
        }
        XCTAssertEqual(try leftovers(in: dir), [])
    }

    /// SIGKILL cannot be caught: the temporary file stays, and the next convert to the same output
    /// removes it (and leaves a live process's temporary file alone).
    func testNextRunSweepsWhatSIGKILLLeft() throws {
        let dir = CLIFixtures.temporaryDirectory()
        let input = try bigNpy(in: dir)
        let out = dir.appendingPathComponent("big.safetensors")
        let (killed, sawTemp) = try convert(input, to: out, killWith: SIGKILL)
        guard sawTemp else { return XCTFail("the write finished before its temporary file was seen; make the input bigger") }
        XCTAssertTrue(killed.killedBySignal)
        let left = try leftovers(in: dir)
        XCTAssertEqual(left.count, 1, "SIGKILL leaves the temporary file")
        // A temporary file of a live writer (this test process) must survive the sweep.
        let live = ".big.safetensors.\(getpid()).7.tmp"
        _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(live).path, contents: Data([1]))

        let small = CLIFixtures.weightsFixtures.appendingPathComponent("tiny.safetensors").path
        let next = try Graft.run(["convert", small, out.path])
        XCTAssertExit(next, 0)
        XCTAssertTrue(next.stderr.contains("removed stale temporary file"), next.transcript)
        XCTAssertEqual(try leftovers(in: dir), [live])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.path))
    }

    // MARK: - helpers

    /// Temporary files of atomic writes in `dir`.
    private func leftovers(in dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }.sorted()
    }

    /// A 256 MiB float32 .npy (sparse: quick to make, slow enough to write out that a signal lands mid-write).
    private func bigNpy(in dir: URL) throws -> URL {
        let count = 64 << 20
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(count),), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        let url = dir.appendingPathComponent("big.npy")
        _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(bytes.count + count * 4))
        try handle.close()
        return url
    }

    /// Starts `convert`, waits for its temporary file to appear, then sends `signal`.
    private func convert(_ input: URL, to out: URL, killWith sig: Int32) throws -> (GraftRun, sawTemp: Bool) {
        let running = try Graft.start(["convert", input.path, out.path])
        let prefix = ".\(out.lastPathComponent).\(running.pid)."
        var sawTemp = false
        let deadline = Date().addingTimeInterval(60)
        while running.process.isRunning && Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path)) ?? []
            if names.contains(where: { $0.hasPrefix(prefix) && $0.hasSuffix(".tmp") }) {
                sawTemp = true
                kill(running.pid, sig)
                break
            }
            usleep(1_000)
        }
        return (running.finish(), sawTemp)
    }
}
