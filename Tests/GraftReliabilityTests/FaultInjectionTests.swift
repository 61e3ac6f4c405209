import Foundation
import XCTest

/// bench/reliability/faults.sh in its reduced form: `extract`, `fit`, `finetune`
/// and `convert` killed at a random time, at their first and last rename/unlink,
/// and run against a full disk; every output old-or-new, every rerun identical
/// to an uninterrupted run. (`faults.sh` without `--reduced` runs every point.)
final class FaultInjectionTests: XCTestCase {
    func testReducedFaultInjectionHolds() throws {
        let graft = try GraftProcess.executable
        let script = GraftProcess.repoRoot.appendingPathComponent("bench/reliability/faults.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path, "--reduced"]
        var env = ProcessInfo.processInfo.environment
        env["GRAFT"] = graft.path
        env["GRAFT_HOME"] = GraftProcess.graftHome
        // FAULTS_PENDING=kind,... prints those checks as PENDING instead of failing (none: every fix is in).
        env["FAULTS_PENDING"] = ProcessInfo.processInfo.environment["FAULTS_PENDING"] ?? ""
        process.environment = env
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("graft-faults-\(getpid()).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let end = Date(timeIntervalSinceNow: 900)
        while process.isRunning && Date() < end { usleep(100_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 0, output)
        XCTAssertTrue(output.contains(" 0 failed"), output)
        print(output.split(separator: "\n").suffix(3).joined(separator: "\n"))
    }
}
