import Foundation
import GraftData

/// A data set named on the command line: a built-in name, a folder of class
/// folders, or a CSV/JSONL file. Built-ins with an official test set keep it.
public struct DataSource: Sendable {
    public let name: String
    public let train: any Dataset
    /// The official test set, when the data set has one.
    public let test: (any Dataset)?

    public var kind: DataKind { train.kind }
    public var classNames: [String] { train.classNames }

    public static let builtinNames = ["fashion-mnist", "digits", "rotten-tomatoes"]

    public static func resolve(_ spec: String) throws -> DataSource {
        switch spec {
        case "fashion-mnist":
            return DataSource(name: spec, train: try BuiltinDatasets.fashionMNIST(.train), test: try BuiltinDatasets.fashionMNIST(.test))
        case "digits":
            return DataSource(name: spec, train: try BuiltinDatasets.digits(), test: nil)
        case "rotten-tomatoes":
            return DataSource(name: spec, train: try BuiltinDatasets.rottenTomatoes(), test: nil)
        default:
            let url = URL(fileURLWithPath: spec)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
                throw TransferError.emptyData("'\(spec)' is neither a built-in data set (\(builtinNames.joined(separator: ", "))) nor a file or folder")
            }
            if isDir.boolValue { return DataSource(name: url.lastPathComponent, train: try ImageFolderDataset(root: url), test: nil) }
            switch url.pathExtension.lowercased() {
            case "jsonl", "ndjson": return DataSource(name: url.lastPathComponent, train: try TableDataset(jsonl: url), test: nil)
            default: return DataSource(name: url.lastPathComponent, train: try TableDataset(csv: url), test: nil)
            }
        }
    }
}

/// Which items train, validate and test, drawn once with a seed so every
/// strategy of a comparison sees the same examples.
public struct ExperimentSplit: Sendable, Equatable {
    public var train: [Int]
    public var validation: [Int]
    /// Indices into the test data set (the official test set, or `train` when there is none).
    public var test: [Int]
    public var testFromOfficialSet: Bool

    /// - perClass: training examples per class (few-shot); nil keeps every training example.
    /// - validationPerClass: held out from the training pool for early stopping.
    /// - testCount: at most this many test items, stratified.
    public static func make(_ data: DataSource, perClass: Int?, validationPerClass: Int = 10, testCount: Int = 2000,
                            seed: UInt64 = 0) throws -> ExperimentSplit {
        let labels = data.train.labels
        guard !labels.isEmpty else { throw TransferError.emptyData("data set \(data.name) has no items") }
        let counts = data.train.classCounts
        if let empty = counts.firstIndex(of: 0) { throw TransferError.emptyData("class '\(data.classNames[empty])' of \(data.name) has no examples") }
        guard counts.count >= 2 else { throw TransferError.singleClass("\(data.name) has only the class '\(data.classNames.first ?? "")'") }
        var pool = Array(0..<labels.count)
        var test: [Int]
        var official = false
        if let t = data.test {
            official = true
            let perClassTest = max(1, testCount / max(t.classNames.count, 1))
            test = Splitter.sample(perClass: perClassTest, labels: t.labels, seed: seed &+ 1)
        } else {
            // No official test set: hold out a stratified part of the data first.
            let fraction = min(0.5, Double(testCount) / Double(labels.count))
            let s = Splitter.stratified(labels: labels, validation: 0, test: fraction, seed: seed &+ 1)
            test = s.test
            pool = s.train
        }
        let validation = Splitter.sample(perClass: validationPerClass, labels: labels, from: pool, seed: seed &+ 2)
        let held = Set(validation)
        let rest = pool.filter { !held.contains($0) }
        let train = perClass.map { Splitter.sample(perClass: $0, labels: labels, from: rest, seed: seed &+ 3) } ?? rest
        return ExperimentSplit(train: train, validation: validation, test: test, testFromOfficialSet: official)
    }
}
