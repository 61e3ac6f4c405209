import Foundation
import GraftData

/// A data set named on the command line: a built-in name, a folder of class
/// folders, or a CSV/JSONL file. Built-ins with an official test set keep it.
public struct DataSource: Sendable {
    public let name: String
    public let train: any Dataset
    /// The official test set (or one named with `--test-data`).
    public let test: (any Dataset)?
    /// A validation set named with `--validation-data`; nil holds validation items out of `train`.
    public let validation: (any Dataset)?

    public init(name: String, train: any Dataset, test: (any Dataset)? = nil, validation: (any Dataset)? = nil) {
        self.name = name; self.train = train; self.test = test; self.validation = validation
    }

    public var kind: DataKind { train.kind }
    public var classNames: [String] { train.classNames }

    /// What training and validation indices address: `train`, then `validation` when there is one.
    public var labelled: any Dataset { validation.map { JoinedDataset(train, $0) } ?? train }
    /// What test indices address.
    public var testSet: any Dataset { test ?? labelled }

    /// `spec` with separate validation and test data (any spec `resolve` takes), checked to hold
    /// the same kind of input.
    public static func resolve(_ spec: String, validation: String?, test: String?) throws -> DataSource {
        let base = try resolve(spec)
        func aligned(_ spec: String?, _ flag: String) throws -> (any Dataset)? {
            guard let spec else { return nil }
            let other = try resolve(spec).train
            guard other.kind == base.kind else {
                throw TransferError.unsupported("\(flag) \(spec) holds \(other.kind.rawValue)s but the training data \(base.kind.rawValue)s")
            }
            return try ClassAlignedDataset(other, to: base.classNames, name: spec)
        }
        return DataSource(name: base.name, train: base.train, test: try aligned(test, "--test-data") ?? base.test,
                          validation: try aligned(validation, "--validation-data"))
    }

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

