import GraftData

/// A data set whose labels index another class list (the training data's), matched by name:
/// separate validation and test data may list their classes in another order, or only some.
public struct ClassAlignedDataset: Dataset {
    public let base: any Dataset
    public let classNames: [String]
    private let mapping: [Int]

    /// Throws when `base` has a class that `classNames` lacks.
    public init(_ base: any Dataset, to classNames: [String], name: String) throws {
        var mapping: [Int] = []
        for c in base.classNames {
            guard let i = classNames.firstIndex(of: c) else {
                throw TransferError.unseenLabels(["\(c) (in \(name); the training data has \(classNames.joined(separator: ", ")))"])
            }
            mapping.append(i)
        }
        self.base = base; self.classNames = classNames; self.mapping = mapping
    }

    public var count: Int { base.count }
    public var kind: DataKind { base.kind }
    public func label(at index: Int) -> Int { mapping[base.label(at: index)] }
    public func sourceID(at index: Int) -> String { base.sourceID(at: index) }
    public func item(at index: Int) throws -> DataItem { try base.item(at: index) }
}

/// `first` then `second` (same classes), so one set of indices addresses training and validation items.
public struct JoinedDataset: Dataset {
    public let first: any Dataset
    public let second: any Dataset

    public init(_ first: any Dataset, _ second: any Dataset) { self.first = first; self.second = second }

    public var count: Int { first.count + second.count }
    public var classNames: [String] { first.classNames }
    public var kind: DataKind { first.kind }
    public func label(at index: Int) -> Int { index < first.count ? first.label(at: index) : second.label(at: index - first.count) }
    public func sourceID(at index: Int) -> String {
        index < first.count ? first.sourceID(at: index) : second.sourceID(at: index - first.count)
    }
    public func item(at index: Int) throws -> DataItem {
        try index < first.count ? first.item(at: index) : second.item(at: index - first.count)
    }
    public func target(at index: Int) -> ItemTarget {
        index < first.count ? first.target(at: index) : second.target(at: index - first.count)
    }
    public var labelsAreClasses: Bool { first.labelsAreClasses }
}
