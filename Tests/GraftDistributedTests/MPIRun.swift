import Foundation
import XCTest

/// Runs the test program `graft-mpi-ranks` under `mpirun` with TCP on
/// loopback (the transport two machines would use) and a hard time limit,
/// so a hang fails the test instead of stalling CI.
struct MPIRun {
    struct Result {
        var status: Int32
        var output: String
        var seconds: Double
        var timedOut: Bool
    }

    /// The folder of the test bundle, where SwiftPM also puts executables.
    static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static var program: URL { productsDirectory.appendingPathComponent("graft-mpi-ranks") }

    /// Runs the program without a launcher (a world of one) and fails the test when it fails.
    static func runAlone(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["GRAFT_THREADS"] = env["GRAFT_THREADS"] ?? "1"
        process.environment = env
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "graft-mpi-ranks \(arguments) failed", file: file, line: line)
    }

    /// Runs `executable` (the built `graft` by default) alone with one thread, as the reference the
    /// ranks' result is compared with; fails the test when it fails.
    static func runAlone(executable: URL, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["GRAFT_THREADS"] = "1"
        process.environment = env
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(executable.lastPathComponent) \(arguments) failed", file: file, line: line)
    }

    static func launcherArguments(ranks: Int) -> [String] {
        ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)",
         "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", "lo", "--mca", "mpi_yield_when_idle", "1"]
    }

    static func run(ranks: Int = 2, _ arguments: [String], executable: URL = program, timeout: Double = 45,
                    environment: [String: String] = [:]) throws -> Result {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        guard path.split(separator: ":").contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/mpirun") }) else {
            throw MissingLauncher()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["mpirun"] + launcherArguments(ranks: ranks) + [executable.path] + arguments
        var env = ProcessInfo.processInfo.environment
        env["GRAFT_THREADS"] = env["GRAFT_THREADS"] ?? "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let started = Date()
        try process.run()
        // Read on another thread so a chatty job cannot fill the pipe and block.
        let collected = OutputCollector()
        let reader = Thread { collected.data = pipe.fileHandleForReading.readDataToEndOfFile(); collected.done.signal() }
        reader.start()
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(started) > timeout { timedOut = true; process.terminate(); break }
            usleep(20_000)
        }
        process.waitUntilExit()
        _ = collected.done.wait(timeout: .now() + 10)
        return Result(status: process.terminationStatus, output: String(decoding: collected.data, as: UTF8.self),
                      seconds: Date().timeIntervalSince(started), timedOut: timedOut)
    }
}

/// Two feature stores hold the same files, shards byte for byte, and the same manifest but for
/// `seconds` (the time extraction took, which no two runs share).
func assertSameStore(_ a: URL, _ b: URL, shards: Int, file: StaticString = #filePath, line: UInt = #line) throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: a.path).sorted()
    XCTAssertEqual(names, try FileManager.default.contentsOfDirectory(atPath: b.path).sorted(), file: file, line: line)
    XCTAssertEqual(names.filter { $0.hasSuffix(".safetensors") }.count, shards, file: file, line: line)
    for name in names where name != "manifest.json" {
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(name)), try Data(contentsOf: b.appendingPathComponent(name)),
                       "\(name) differs", file: file, line: line)
    }
    func manifest(_ store: URL) throws -> NSDictionary {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: store.appendingPathComponent("manifest.json")))
        let dictionary = NSMutableDictionary(dictionary: object as? [String: Any] ?? [:])
        XCTAssertNotNil(dictionary["shards"], "\(store.path) has no manifest", file: file, line: line)
        dictionary.removeObject(forKey: "seconds")
        return dictionary
    }
    XCTAssertEqual(try manifest(a), try manifest(b), file: file, line: line)
}

struct MissingLauncher: Error, CustomStringConvertible {
    var description: String { "mpirun not found on PATH: run `make setup` (it installs openmpi-bin)" }
}

final class OutputCollector: @unchecked Sendable {
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}
