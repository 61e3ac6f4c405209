// MiniLM sentence-embedding throughput (issue 5): SentenceEmbedder.embed at batch 32.
//
//   graft-bench-encoder WORK CASE...   (cases: len32, len128, reviews; files from peer.py prepare)
//   graft-bench-encoder WORK --profile  (per-op times of one encoder layer; see Profile.swift)
//   graft-bench-encoder WORK --pairs    (in-process A/Bs of the int8 feed-forward pair and the unmasked attention; Pairs.swift)
//
// BENCH_CHUNK / BENCH_BATCH: see below (extraction's call pattern).
// Prints `row <case> <sentences/s> <tokens per sentence>`; median of BENCH_REPEATS (3) timed calls
// after one warm-up call. Writes WORK/<case>-graft.f32 (the embeddings) for the parity check.
// BENCH_PRECISION=bf16 or int8: the encoder's matmuls in that precision (docs/PRECISION.md); rows are then named
// `<case> bf16` and the embeddings go to WORK/<case> bf16-graft.f32; int8 also prints its linears' kernels.
import GraftKernels
import GraftModels
import Foundation
import GraftTensor
import GraftTransfer

func fail(_ s: String) -> Never { FileHandle.standardError.write(Data((s + "\n").utf8)); exit(1) }

let args = CommandLine.arguments
guard args.count >= 3 else { fail("usage: graft-bench-encoder WORK CASE...") }
let work = URL(fileURLWithPath: args[1])
let repeats = Int(ProcessInfo.processInfo.environment["BENCH_REPEATS"] ?? "") ?? 3
let precision = Precision(rawValue: ProcessInfo.processInfo.environment["BENCH_PRECISION"] ?? "fp32") ?? .fp32
do {
    let loadStart = Date()
    let embedder = try SentenceEmbedder.pretrained("all-minilm-l6-v2")
    print(String(format: "# Graft: model load %.2f s", Date().timeIntervalSince(loadStart)))
    if precision == .int8 {   // which kernels MiniLM's int8 feed-forward input runs (brgemm, or gemm:jit + Graft's epilogue)
        print("# Graft int8 linears: \(try Kernels.linearInt8Implementation(rows: 1024, inputs: 384, outputs: 1536, activation: .gelu))")
    }
    if args[2] == "--pairs" {
        try abPairs()
        exit(0)
    }
    if args[2] == "--profile" {
        for name in ["len32", "len128"] {
            let texts = try String(contentsOf: work.appendingPathComponent(name + ".txt"), encoding: .utf8).split(separator: "\n").map(String.init)
            try profileEmbedder(embedder, texts, name)
        }
        try profileOps()
        exit(0)
    }
    for name in args.dropFirst(2) {
        let texts = try String(contentsOf: work.appendingPathComponent(name + ".txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let lengths = texts.map { embedder.tokenizer.encode($0, maxLength: embedder.maxLength).count }
        if name.hasPrefix("len"), let want = Int(name.dropFirst(3)), lengths.contains(where: { $0 != want }) {
            fail("\(name): token counts differ from \(want)")
        }
        // BENCH_CHUNK=N: embed N texts at a time in file order, as feature extraction feeds its batches (each call
        // sorts only its own texts); BENCH_BATCH: the batch size inside a call (default 32).
        let chunk = Int(ProcessInfo.processInfo.environment["BENCH_CHUNK"] ?? "") ?? texts.count
        let batchSize = Int(ProcessInfo.processInfo.environment["BENCH_BATCH"] ?? "") ?? 32
        func run() throws -> Tensor {
            let parts = try stride(from: 0, to: texts.count, by: max(1, chunk)).map { start in
                try withPrecision(precision) { try embedder.embed(Array(texts[start..<min(start + chunk, texts.count)]), batchSize: batchSize) }
            }
            return parts.count == 1 ? parts[0] : try Tensor.concat(parts, axis: 0)
        }
        var result = try run()
        var times: [Double] = []
        for _ in 0..<repeats {
            let t = Date()
            result = try run()
            times.append(Date().timeIntervalSince(t))
        }
        let median = times.sorted()[times.count / 2]
        let values = result.values
        let row = precision == .fp32 ? name : "\(name) \(precision)"
        try values.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: work.appendingPathComponent(row + "-graft.f32"))
        let meanTokens = Double(lengths.reduce(0, +)) / Double(max(lengths.count, 1))
        print(String(format: "row\t%@\t%.1f\t%.1f", row, Double(texts.count) / median, meanTokens))
    }
} catch {
    fail("error: \(error)")
}
