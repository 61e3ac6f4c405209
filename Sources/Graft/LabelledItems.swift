import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer
/// Images or texts held in memory with string labels: the data set behind
/// `TrainingData.images` and `.texts`. Images may differ in size. Class names
/// are sorted (numerically when every label is an integer).
public struct LabelledItems: Dataset {
    public let items: [DataItem]
    public let classNames: [String]
    public let kind: DataKind
    private let labelIndices: [Int]

    public init(items: [DataItem], labels: [String], kind: DataKind) throws {
        guard items.count == labels.count else { throw GraftError.labelCount(inputs: items.count, labels: labels.count) }
        let unique = Set(labels)
        let numbered = unique.compactMap { s in Int(s).map { (s, $0) } }
        classNames = numbered.count == unique.count
            ? numbered.sorted { $0.1 < $1.1 }.map(\.0)
            : unique.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        let position = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
        labelIndices = labels.map { position[$0] ?? 0 }
        self.items = items
        self.kind = kind
    }

    public var count: Int { items.count }
    public func label(at index: Int) -> Int { labelIndices[index] }
    public func sourceID(at index: Int) -> String { "memory#\(index)" }
    public func item(at index: Int) throws -> DataItem { items[index] }
}
