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

    @Option(help: "Text model (zoo name).") var model: String = "all-minilm-l6-v2"
    @Option(help: "A file with one text per line.") var file: String?
    @Flag(help: "JSON output.") var json = false
    @Option(help: "Write a [n, d] float32 .npy file instead of printing.") var out: String?
    @Argument(help: "Texts.") var texts: [String] = []

    func run() throws {
        let all = try texts + (file.map { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } } ?? [])
        guard !all.isEmpty else { throw ValidationError("give texts as arguments or with --file") }
        let embedder = try SentenceEmbedder.pretrained(model)
        let e = try embedder.embed(all)
        let d = embedder.dimension
        if let out {
            try Npy.write(StoredTensor(name: "embeddings", shape: [all.count, d], floats: e.values), to: URL(fileURLWithPath: out))
            print("\(all.count) x \(d) embeddings -> \(out)")
        } else if json {
            let rows = (0..<all.count).map { Array(e.values[($0 * d)..<(($0 + 1) * d)]) }
            print(String(decoding: try JSONEncoder().encode(rows), as: UTF8.self))
        } else {
            for (i, t) in all.enumerated() {
                let v = e.values[(i * d)..<(i * d + 6)].map { String(format: "%.4f", $0) }.joined(separator: " ")
                print("\(t.prefix(60)): [\(v) ...] (\(d)-d)")
            }
        }
    }
}

/// `graft similar`: semantic search over one sentence per line.
struct SimilarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "similar", abstract: "Find the lines of a corpus closest in meaning to a query.")

    @Option(help: "Text model (zoo name).") var model: String = "all-minilm-l6-v2"
    @Option(help: "Corpus file, one sentence per line.") var corpus: String
    @Option(help: "How many results.") var top: Int = 5
    @Argument(help: "The query.") var query: String

    func run() throws {
        let lines = try String(contentsOfFile: corpus, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw ValidationError("corpus \(corpus) has no lines") }
        let embedder = try SentenceEmbedder.pretrained(model)
        let corpusVectors = try embedder.embed(lines, normalize: true)
        let q = try embedder.embed([query], normalize: true).values
        let index = try EmbeddingIndex(rows: corpusVectors.values, dimension: embedder.dimension)
        for hit in try index.search(q, top: top) { print(String(format: "%.4f  %@", hit.score, lines[hit.index])) }
    }
}
