import ArgumentParser
import Foundation
import Graft
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer
import GraftWeights

/// `graft embed`: sentence vectors from a pretrained encoder.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed", abstract: "Sentence embeddings (one per text or per line of --file).")

    @Option(help: ModelArguments.textHelp) var model: String = "all-minilm-l6-v2"
    @Option(help: ModelArguments.archHelp) var arch: String?
    @Option(help: "A file with one text per line.") var file: String?
    @Option(help: ModelArguments.precisionHelp) var precision: Precision = .fp32
    @Flag(help: CLIOutput.jsonHelp) var json = false
    @Option(help: "Write a [n, d] float32 .npy file instead of printing the vectors.") var out: String?
    @Argument(help: "Texts.") var texts: [String] = []

    struct Report: Encodable {
        let model: String
        let precision: Precision
        let dimension: Int
        let count: Int
        /// Where the vectors went with --out; otherwise they are here, one row per text.
        let out: String?
        let texts: [String]?
        let embeddings: [[Float]]?
    }

    func run() throws {
        let all = try texts + (file.map { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } } ?? [])
        guard !all.isEmpty else { throw ValidationError("give texts as arguments or with --file") }
        try precision.requireSupport()   // before loading weights; int8 quantizes dynamically (no calibration)
        let embedder = try ModelArguments.sentenceEmbedder(model, arch: arch)
        let e = try withPrecision(precision) { try embedder.embed(all) }
        let d = embedder.dimension
        if let out {
            let url = URL(fileURLWithPath: out)
            TemporaryFiles.guardOutput(url)
            try Npy.write(StoredTensor(name: "embeddings", shape: [all.count, d], floats: e.values), to: url)
            if json { return try CLIOutput.printJSON(Report(model: model, precision: precision, dimension: d, count: all.count, out: out, texts: nil, embeddings: nil)) }
            print("\(all.count) x \(d) embeddings -> \(out)")
        } else if json {
            let rows = (0..<all.count).map { Array(e.values[($0 * d)..<(($0 + 1) * d)]) }
            try CLIOutput.printJSON(Report(model: model, precision: precision, dimension: d, count: all.count, out: nil, texts: all, embeddings: rows))
        } else {
            for (i, t) in all.enumerated() {
                let v = e.values[(i * d)..<(i * d + min(6, d))].map { String(format: "%.4f", $0) }.joined(separator: " ")
                print("\(t.prefix(60)): [\(v) ...] (\(d)-d)")
            }
        }
    }
}

/// `graft similar`: semantic search over one sentence per line.
struct SimilarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "similar", abstract: "Find the lines of a corpus closest in meaning to a query.")

    @Option(help: ModelArguments.textHelp) var model: String = "all-minilm-l6-v2"
    @Option(help: ModelArguments.archHelp) var arch: String?
    @Option(help: "Corpus file, one sentence per line.") var corpus: String
    @Option(help: "How many results.") var top: Int = 5
    @Flag(help: CLIOutput.jsonHelp) var json = false
    @Argument(help: "The query.") var query: String

    struct Report: Encodable {
        struct Hit: Encodable {
            /// 1-based line number in the corpus file.
            let line: Int
            let text: String
            /// Cosine similarity.
            let score: Float
        }
        let query: String
        let model: String
        let results: [Hit]
    }

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        // Keep line numbers: empty lines are skipped but still counted.
        let numbered = try String(contentsOfFile: corpus, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated().filter { !$0.element.isEmpty }.map { (line: $0.offset + 1, text: String($0.element)) }
        guard !numbered.isEmpty else { throw ValidationError("corpus \(corpus) has no lines") }
        let embedder = try ModelArguments.sentenceEmbedder(model, arch: arch)
        let corpusVectors = try embedder.embed(numbered.map(\.text), normalize: true)
        let q = try embedder.embed([query], normalize: true).values
        let index = try EmbeddingIndex(rows: corpusVectors.values, dimension: embedder.dimension)
        let hits = try index.search(q, top: top).map { Report.Hit(line: numbered[$0.index].line, text: numbered[$0.index].text, score: $0.score) }
        if json { return try CLIOutput.printJSON(Report(query: query, model: model, results: hits)) }
        for hit in hits { print(String(format: "%.4f  %@", hit.score, hit.text)) }
    }
}
