import Foundation
import XCTest

/// One finished run of the `graft` executable.
struct GraftRun {
    let arguments: [String]
    let status: Int32
    /// True when the process died of a signal (`status` is then the signal number).
    let killedBySignal: Bool
    let stdout: String
    let stderr: String

    /// stdout parsed as the single JSON object `--json` promises.
    func json(file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
            XCTFail("stdout of graft \(arguments.joined(separator: " ")) is not one JSON object:\n\(stdout)\nstderr:\n\(stderr)", file: file, line: line)
            throw CocoaError(.coderReadCorrupt)
        }
        return object
    }

    /// For failure messages.
    var transcript: String { "graft \(arguments.joined(separator: " ")) -> \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
}

/// Runs the built `graft` executable as a user would: a separate process, stdout and stderr captured
/// (stderr is a file here, never a terminal, so progress comes as plain lines).
enum Graft {
    /// `.build/<config>/graft`, beside the test bundle (`swift test` builds every product first),
    /// or `GRAFT_EXECUTABLE`.
    static let executable: URL = {
        if let path = ProcessInfo.processInfo.environment["GRAFT_EXECUTABLE"] { return URL(fileURLWithPath: path) }
        var candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        if let exe = Bundle.main.executableURL { candidates.insert(exe.deletingLastPathComponent(), at: 0) }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent())
        }
        for dir in candidates {
            let url = dir.appendingPathComponent("graft")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue { return url }
        }
        return candidates[0].appendingPathComponent("graft")
    }()

    /// Runs `graft arguments`; a run past `timeout` seconds is killed and fails the test.
    /// `environment` adds to (or replaces) this process's variables.
    @discardableResult
    static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:], timeout: TimeInterval = 120,
                    file: StaticString = #filePath, line: UInt = #line) throws -> GraftRun {
        let process = try start(arguments, in: directory, environment: environment)
        let deadline = Date().addingTimeInterval(timeout)
        while process.process.isRunning && Date() < deadline { usleep(5_000) }
        if process.process.isRunning {
            process.process.terminate()
            XCTFail("graft \(arguments.joined(separator: " ")) ran past \(timeout) s", file: file, line: line)
        }
        return process.finish()
    }

    /// A started `graft` process whose output goes to temporary files.
    final class Running {
        let arguments: [String]
        let process = Process()
        let outURL: URL, errURL: URL

        init(_ arguments: [String], in directory: URL?, environment: [String: String] = [:]) throws {
            self.arguments = arguments
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("graft-cli-\(UUID().uuidString)")
            outURL = base.appendingPathExtension("out"); errURL = base.appendingPathExtension("err")
            _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
            process.executableURL = Graft.executable
            process.arguments = arguments
            if let directory { process.currentDirectoryURL = directory }
            if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: outURL)
            process.standardError = try FileHandle(forWritingTo: errURL)
        }

        var pid: pid_t { process.processIdentifier }

        func finish() -> GraftRun {
            process.waitUntilExit()
            defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
            let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
            let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            return GraftRun(arguments: arguments, status: process.terminationStatus,
                            killedBySignal: process.terminationReason == .uncaughtSignal, stdout: out, stderr: err)
        }
    }

    static func start(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> Running {
        let running = try Running(arguments, in: directory, environment: environment)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: executable.path,
                NSLocalizedDescriptionKey: "no graft executable at \(executable.path): build it first (swift build --product graft) or set GRAFT_EXECUTABLE"])
        }
        try running.process.run()
        return running
    }
}

/// Assertions every command test makes.
func XCTAssertExit(_ run: GraftRun, _ status: Int32, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(run.killedBySignal, run.transcript, file: file, line: line)
    XCTAssertEqual(run.status, status, run.transcript, file: file, line: line)
}
