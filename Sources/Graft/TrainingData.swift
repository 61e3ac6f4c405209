import Foundation
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// Labelled examples, from disk or from memory.
public enum TrainingData: Sendable {
    /// A folder with one subfolder of images per class (`photos/cat/1.jpg`, ...).
    case folder(URL)
    /// A CSV file (`.csv`, header `path,label` or `text,label`) or JSON Lines file
    /// (`.jsonl`, objects with `path` or `text` and `label`); may be gzip or bzip2 compressed.
    case table(URL)
    /// Decoded images of any sizes and their labels.
    case images([RGBImage], labels: [String])
    /// Texts and their labels.
    case texts([String], labels: [String])
    /// Any `Dataset` (a built-in one, a `Subset`, your own type).
    case dataset(any Dataset)

    /// The data as a `Dataset`.
    public func makeDataset() throws -> any Dataset {
        switch self {
        case let .folder(url):
            return try ImageFolderDataset(root: url)
        case let .table(url):
            // `reviews.jsonl.gz` is JSON Lines too: look past a compression suffix.
            let compressed = ["gz", "bz2"].contains(url.pathExtension.lowercased())
            let ext = (compressed ? url.deletingPathExtension() : url).pathExtension.lowercased()
            return ext == "jsonl" || ext == "ndjson" ? try TableDataset(jsonl: url) : try TableDataset(csv: url)
        case let .images(images, labels):
            return try LabelledItems(items: images.map(DataItem.image), labels: labels, kind: .image)
        case let .texts(texts, labels):
            return try LabelledItems(items: texts.map(DataItem.text), labels: labels, kind: .text)
        case let .dataset(d):
            return d
        }
    }

    /// A dataset of the task's kind, or `GraftError.wrongKind`.
    func dataset(for kind: DataKind) throws -> any Dataset {
        let d = try makeDataset()
        guard d.kind == kind else {
            throw GraftError.wrongKind(task: kind == .image ? "image classifier" : "text classifier", data: d.kind == .image ? "images" : "texts")
        }
        guard d.count > 0 else { throw TransferError.emptyData("the training data has no examples") }
        return d
    }
}
