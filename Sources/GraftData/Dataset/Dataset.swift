/// One example's input.
public enum DataItem: Sendable, Equatable {
    case image(RGBImage)
    case text(String)
}

/// What an input is, known without loading it.
public enum DataKind: String, Codable, Sendable, Equatable, CaseIterable {
    case image
    case text
}

/// A labelled collection of images or texts addressed by index `0..<count`.
///
/// Labels are indices into `classNames`, which every implementation keeps in a
/// stable order (sorted). `sourceID(at:)` names where an item came from (a path
/// relative to the data set root, or `file#record`), stable across runs, for
/// feature stores and reports.
public protocol Dataset: Sendable {
    var count: Int { get }
    var classNames: [String] { get }
    var kind: DataKind { get }
    func label(at index: Int) -> Int
    func sourceID(at index: Int) -> String
    /// Loads the item. Image data sets throw `ImageError` for unreadable files.
    func item(at index: Int) throws -> DataItem
    /// What the item is trained to predict: its class index unless the data set carries other
    /// targets (label vectors, values); `BatchLoader` puts these in `Batch.targets`.
    func target(at index: Int) -> ItemTarget
    /// Whether every class must have items and there must be two or more (`ExperimentSplit`'s checks): true
    /// when `label(at:)` is the item's class; false for detection data, whose classes belong to objects.
    var labelsAreClasses: Bool { get }
}

extension Dataset {
    public func target(at index: Int) -> ItemTarget { .classIndex(label(at: index)) }
    public var labelsAreClasses: Bool { true }

    /// All labels in index order.
    public var labels: [Int] { (0..<count).map(label(at:)) }

    /// Number of items per class, indexed like `classNames`.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for i in 0..<count { counts[label(at: i)] += 1 }
        return counts
    }
}

/// A view of some items of another data set, in the given order, with the same classes.
public struct Subset: Dataset {
    public let base: any Dataset
    public let indices: [Int]

    /// `indices` must lie in `0..<base.count`; others are dropped.
    public init(_ base: any Dataset, indices: [Int]) {
        self.base = base
        self.indices = indices.filter { $0 >= 0 && $0 < base.count }
    }

    public var count: Int { indices.count }
    public var classNames: [String] { base.classNames }
    public var kind: DataKind { base.kind }
    public func label(at index: Int) -> Int { base.label(at: indices[index]) }
    public func sourceID(at index: Int) -> String { base.sourceID(at: indices[index]) }
    public func item(at index: Int) throws -> DataItem { try base.item(at: indices[index]) }
    public func target(at index: Int) -> ItemTarget { base.target(at: indices[index]) }
    public var labelsAreClasses: Bool { base.labelsAreClasses }
}

/// Orders label strings: numerically when every label is an integer ("2" before "10"),
/// otherwise by Unicode code points (Python's `sorted`, as torchvision uses).
func sortedClassNames(_ names: Set<String>) -> [String] {
    let numbered = names.compactMap { name in Int(name).map { (name, $0) } }
    if numbered.count == names.count {
        return numbered.sorted { $0.1 < $1.1 }.map(\.0)
    }
    return names.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
}
