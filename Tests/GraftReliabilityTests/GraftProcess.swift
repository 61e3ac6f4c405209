import Foundation
import XCTest

/// The built `graft` executable, run as a user would (the process-level
/// reliability tests kill it, signal it and compare what it leaves behind).
enum GraftProcess {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `graft` beside the test bundle (`.build/<triple>/<config>/`), where `swift build` / `swift test` put it.
    static var executable: URL {
        get throws {
            // Another build's binary, e.g. to show a test failing before a fix.
            if let path = ProcessInfo.processInfo.environment["GRAFT_EXECUTABLE"] { return URL(fileURLWithPath: path) }
            let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            var dir = beside.deletingLastPathComponent()
            // On Linux the test runner is `<config>/GraftPackageTests.xctest`; step out of a bundle if there is one.
            while dir.pathExtension == "xctest" || dir.lastPathComponent == "MacOS" || dir.lastPathComponent == "Contents" {
                dir = dir.deletingLastPathComponent()
            }
            let url = dir.appendingPathComponent("graft")
            guard FileManager.default.isExecutableFile(atPath: url.path) else {
                throw NSError(domain: "graft", code: 2, userInfo: [NSLocalizedDescriptionKey:
                    "no graft executable at \(url.path): build the graft product first (`swift build --product graft`)"])
            }
            return url
        }
    }

    static var graftHome: String {
        ProcessInfo.processInfo.environment["GRAFT_HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/graft").path
    }

    /// A started process whose output goes to files (pipes could fill and block it).
    final class Running: @unchecked Sendable {
        let process = Process()
        let output: URL

        init(_ arguments: [String], in directory: URL, name: String) throws {
            output = directory.appendingPathComponent("\(name).log")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            process.executableURL = try GraftProcess.executable
            process.arguments = arguments
            process.currentDirectoryURL = directory
            var env = ProcessInfo.processInfo.environment
            env["GRAFT_HOME"] = GraftProcess.graftHome
            process.environment = env
            let handle = try FileHandle(forWritingTo: output)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }

        /// Waits at most `seconds`; nil if still running.
        func wait(upTo seconds: Double) -> Int32? {
            let end = Date(timeIntervalSinceNow: seconds)
            while process.isRunning && Date() < end { usleep(20_000) }
            if process.isRunning { return nil }
            return process.terminationStatus
        }

        func kill(_ signal: Int32) { _ = Foundation.kill(process.processIdentifier, signal) }

        var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
    }

    /// Runs to completion (at most `timeout` seconds); returns the exit status and the output.
    @discardableResult
    static func run(_ arguments: [String], in directory: URL, name: String, timeout: Double = 600) throws -> (status: Int32, log: String) {
        let p = try Running(arguments, in: directory, name: name)
        guard let status = p.wait(upTo: timeout) else {
            p.kill(SIGKILL)
            _ = p.wait(upTo: 10)
            throw NSError(domain: "graft", code: 1, userInfo: [NSLocalizedDescriptionKey: "graft \(arguments.joined(separator: " ")) ran over \(timeout) s:\n\(p.log)"])
        }
        return (status, p.log)
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("graft-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }
}
