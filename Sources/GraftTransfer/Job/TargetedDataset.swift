import GraftData

/// A data set whose items carry a task's targets (a label vector per item, or values) instead of
/// class indices, matched to its items by id (`Dataset.sourceID`) from a targets or label-list file.
/// This is how regression and multi-label data reach the network strategies: `BatchLoader` puts
/// `target(at:)` in `Batch.targets`; splits still stratify by `label(at:)`.
public struct TargetedDataset: Dataset {
    public let base: any Dataset
    private let targets: [ItemTarget]

    /// Values of the named target columns for each item of `base`; an item without a row is an error naming both.
    public init(_ base: any Dataset, regression: RegressionTargets, dataName: String) throws {
        self.base = base
        targets = try (0..<base.count).map { i in
            let id = base.sourceID(at: i)
            guard let row = regression.byID[id] else { throw TaskDataError.missingItem(path: regression.source.path, id: id, data: dataName) }
            return .values(row)
        }
    }

    /// A 0/1 vector over `labels.names` for each item of `base`.
    public init(_ base: any Dataset, multiLabel labels: MultiLabelTargets, dataName: String) throws {
        self.base = base
        let width = labels.names.count
        targets = try (0..<base.count).map { i in
            let id = base.sourceID(at: i)
            guard let set = labels.byID[id] else { throw TaskDataError.missingItem(path: labels.source.path, id: id, data: dataName) }
            var v = [Float](repeating: 0, count: width)
            for l in set { v[l] = 1 }
            return .labelVector(v)
        }
    }

    public var count: Int { base.count }
    public var classNames: [String] { base.classNames }
    public var kind: DataKind { base.kind }
    public func label(at index: Int) -> Int { base.label(at: index) }
    public func sourceID(at index: Int) -> String { base.sourceID(at: index) }
    public func item(at index: Int) throws -> DataItem { try base.item(at: index) }
    public func target(at index: Int) -> ItemTarget { targets[index] }
}

extension DataSource {
    /// The same data with every set (training, validation, test) wrapped by `wrap`, e.g. to carry targets.
    public func mapped(_ wrap: (any Dataset, String) throws -> any Dataset) throws -> DataSource {
        DataSource(name: name, train: try wrap(train, name), test: try test.map { try wrap($0, name + " (test)") },
                   validation: try validation.map { try wrap($0, name + " (validation)") })
    }

    /// Regression targets for every item, from `targets` (matched by id).
    public func with(regression targets: RegressionTargets) throws -> DataSource {
        try mapped { try TargetedDataset($0, regression: targets, dataName: $1) }
    }

    /// Multi-label targets for every item, from `labels` (matched by id).
    public func with(multiLabel labels: MultiLabelTargets) throws -> DataSource {
        try mapped { try TargetedDataset($0, multiLabel: labels, dataName: $1) }
    }
}
