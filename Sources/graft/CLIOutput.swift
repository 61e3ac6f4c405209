import ArgumentParser
import Foundation
import Graft

// How every `graft` command talks to the user (docs/CLI.md is the user's version of this list).
//
// - Results go to stdout: human text by default, or exactly one JSON document with `--json`
//   (`@Flag(help: CLIOutput.jsonHelp) var json = false`), written with `CLIOutput.printJSON`
//   (one encoder: pretty, sorted keys, slashes unescaped).
// - Logs, warnings, progress and per-item errors go to stderr (`CLIOutput.log`, `.warning`,
//   `ItemFailures`), so `graft X --json | jq` always parses.
// - Enumerated options are `ExpressibleByArgument` + `CaseIterable` types (Output.swift: `HeadKind`,
//   `OptimizerKind`, `ScheduleKind`, `DataPart` for --split, `FeaturePooling`, `StrategyList`):
//   `--help` lists the values and the parser rejects others with exit status 64.
// - Exit status: 0 all good; 1 an error, or some inputs failed (`ItemFailures.finish()` after the
//   results are printed); 64 bad usage (ArgumentParser's `ValidationError` and parse errors).
// - Progress: `TerminalProgressBar(quiet: quiet)`: a bar when stderr is a terminal, plain
//   periodic lines otherwise, nothing with `--quiet`.
// - Models: `ModelArguments` takes `--model NAME|FILE|DIR [--arch ARCH]` wherever a zoo name is.
// - Files written atomically: `TemporaryFiles.guardOutput(url)` first (removes this process's
//   temporary files on SIGINT/SIGTERM, sweeps those of dead processes left by SIGKILL).
// - Version: `GraftVersion.current`, printed by `graft --version` and `graft doctor`.

/// The one way `graft` prints results, JSON and diagnostics.
enum CLIOutput {
    static let jsonHelp: ArgumentHelp = "Print one JSON document on stdout instead of text (diagnostics stay on stderr)."

    /// Pretty-printed, sorted keys, `/` unescaped: every `--json` output and JSON file the CLI writes.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static func jsonString<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    /// Writes `value` as the command's single JSON document on stdout.
    static func printJSON<T: Encodable>(_ value: T) throws {
        print(try jsonString(value))
    }

    /// A diagnostic line on stderr (never mixed with results).
    static func log(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    static func warning(_ message: String) { log("warning: \(message)") }
}

/// Per-input errors of a command that carries on past bad inputs: each is reported on stderr as it
/// happens, and `finish()` turns any into exit status 1 once the results have been printed.
struct ItemFailures {
    private(set) var count = 0
    let total: Int

    init(total: Int) { self.total = total }

    mutating func record(_ input: String, _ error: any Error) {
        count += 1
        let reason = "\(error)"
        // Most of Graft's errors already start with the file they are about.
        CLIOutput.log("error: " + (reason.hasPrefix(input) ? reason : "\(input): \(reason)"))
    }

    /// Call after printing the results: exit status 1 when any input failed.
    func finish() throws {
        guard count > 0 else { return }
        CLIOutput.log("\(count) of \(total) inputs failed")
        throw ExitCode.failure
    }
}

/// A report's JSON object with one more field, `"precision"`: what the backbone computed it in (`--json` says which
/// precision ran, docs/PRECISION.md).
struct ComputedIn<Report: Encodable>: Encodable {
    let report: Report
    let precision: Precision
    init(_ report: Report, precision: Precision) { self.report = report; self.precision = precision }

    private enum Key: String, CodingKey { case precision }

    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(precision.rawValue, forKey: .precision)
    }
}
