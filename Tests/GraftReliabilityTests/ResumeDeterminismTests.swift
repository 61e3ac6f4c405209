import Foundation
import XCTest

/// `graft finetune --resume` after SIGKILLs must end exactly where the
/// uninterrupted run ends: the same weights, bit for bit, and the same
/// training log (times aside). Before the fix, dropout masks restarted from
/// their seed on resume, and a kill between the weights and `state.json`
/// paired the weights of one epoch with the counters of another.
final class ResumeDeterminismTests: XCTestCase {
    /// Two classes of short, distinct reviews (a text fine-tune of MiniLM's last
    /// layer, whose dropout is active: the random stream resume used to lose).
    static func writeReviews(to url: URL) throws {
        let good = ["wonderful", "moving", "brilliant", "delightful", "superb", "charming"]
        let bad = ["dull", "tedious", "clumsy", "boring", "awful", "lifeless"]
        var csv = "text,label\n"
        for i in 0..<30 {
            csv += "\"a \(good[i % 6]) and \(good[(i + 1) % 6]) film, take \(i)\",pos\n"
            csv += "\"a \(bad[i % 6]) and \(bad[(i + 2) % 6]) film, take \(i)\",neg\n"
        }
        try csv.write(to: url, atomically: true, encoding: .utf8)
    }

    static let arguments = ["finetune", "--data", "reviews.csv", "--epochs", "3", "--per-class", "8", "--batch", "4",
                            "--unfreeze", "1", "--patience", "0", "--quiet"]

    /// The epoch table `graft finetune` prints, without the seconds column.
    static func table(_ log: String) -> [String] {
        log.split(separator: "\n").filter { $0.range(of: #"^\s+\d+\s+-?\d"#, options: .regularExpression) != nil }
            .map { $0.split(separator: " ").dropLast().joined(separator: " ") }
    }

    /// The checkpoint's history without its wall-clock fields.
    static func history(_ checkpoint: URL) throws -> [[String: String]] {
        let data = try Data(contentsOf: checkpoint.appendingPathComponent("state.json"))
        let state = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let epochs = try XCTUnwrap(state["history"] as? [[String: Any]])
        return epochs.map { e in e.filter { $0.key != "seconds" && $0.key != "imagesPerSecond" }.mapValues { "\($0)" } }
    }

    static func epochsCompleted(_ checkpoint: URL) -> Int {
        guard let data = try? Data(contentsOf: checkpoint.appendingPathComponent("state.json")),
              let state = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return 0 }
        return state["epochsCompleted"] as? Int ?? 0
    }

    func testResumeAfterKillsIsBitIdenticalToTheUninterruptedRun() throws {
        let dir = try GraftProcess.temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.writeReviews(to: dir.appendingPathComponent("reviews.csv"))

        let reference = try GraftProcess.run(Self.arguments + ["--out", "ref.bundle"], in: dir, name: "reference")
        XCTAssertEqual(reference.status, 0, reference.log)
        let referenceTable = Self.table(reference.log)
        XCTAssertEqual(referenceTable.count, 3, reference.log)

        // First kill: mid-epoch 2 (epoch 1 checkpointed). Second kill: the moment epoch 2's checkpoint appears.
        let checkpoint = dir.appendingPathComponent("run.bundle.checkpoint")
        var logs: [String] = []
        for (attempt, killAfterEpochs) in [1, 2].enumerated() {
            let p = try GraftProcess.Running(Self.arguments + ["--out", "run.bundle"] + (attempt > 0 ? ["--resume"] : []),
                                             in: dir, name: "killed\(attempt)")
            let end = Date(timeIntervalSinceNow: 600)
            while p.process.isRunning && Self.epochsCompleted(checkpoint) < killAfterEpochs && Date() < end { usleep(5_000) }
            if attempt == 0 { usleep(300_000) }
            p.kill(SIGKILL)
            XCTAssertNotNil(p.wait(upTo: 30))
            XCTAssertEqual(p.process.terminationReason, .uncaughtSignal, "killed before it finished:\n\(p.log)")
            logs.append(p.log)
        }
        let resumed = try GraftProcess.run(Self.arguments + ["--out", "run.bundle", "--resume"], in: dir, name: "resumed")
        XCTAssertEqual(resumed.status, 0, resumed.log)

        let a = try Data(contentsOf: dir.appendingPathComponent("ref.bundle/model.safetensors"))
        let b = try Data(contentsOf: dir.appendingPathComponent("run.bundle/model.safetensors"))
        XCTAssertEqual(a.count, b.count)
        XCTAssertTrue(a == b, "resumed weights differ from the uninterrupted run's")
        XCTAssertEqual(Self.table(resumed.log), referenceTable, "training log")
        XCTAssertEqual(try Self.history(checkpoint), try Self.history(dir.appendingPathComponent("ref.bundle.checkpoint")))
    }
}
