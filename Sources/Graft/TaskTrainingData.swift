import Foundation
import GraftData
import GraftTransfer

/// Training data for a `Regressor`: items and, for each, the numbers to predict.
public enum RegressionData: Sendable {
    /// Images with one row of `targets.count` values each.
    case images([RGBImage], values: [[Float]], targets: [String])
    /// Texts with one row of `targets.count` values each.
    case texts([String], values: [[Float]], targets: [String])
    /// A folder or table (as for classifiers) and a CSV/JSONL file of numeric columns matched to its items
    /// by id, path or text-row column, as `graft fit --task regression --targets FILE --target C` reads it.
    case file(TrainingData, targets: URL, columns: [String])

    func resolve() throws -> (source: DataSource, task: any TransferTask, input: DataKind) {
        let memory = URL(fileURLWithPath: "values")   // names in-memory targets in errors
        switch self {
        case let .images(images, values, targets):
            return try inMemory(images.map(DataItem.image), kind: .image, values: values, targets: targets, memory: memory)
        case let .texts(texts, values, targets):
            return try inMemory(texts.map(DataItem.text), kind: .text, values: values, targets: targets, memory: memory)
        case let .file(data, url, columns):
            let dataset = try data.makeDataset()
            let file = try RegressionTargets(contentsOf: url, columns: columns.isEmpty ? ["target"] : columns)
            return (try DataSource(name: "the training data", train: dataset).with(regression: file), RegressionTask(targets: file.names), dataset.kind)
        }
    }

    private func inMemory(_ items: [DataItem], kind: DataKind, values: [[Float]], targets: [String], memory: URL) throws
        -> (source: DataSource, task: any TransferTask, input: DataKind) {
        guard !targets.isEmpty else { throw GraftError.invalidParameters("regression needs at least one target name") }
        guard values.count == items.count else { throw GraftError.labelCount(inputs: items.count, labels: values.count) }
        if let (i, row) = values.enumerated().first(where: { $0.element.count != targets.count || !$0.element.allSatisfy(\.isFinite) }) {
            throw GraftError.invalidParameters("values[\(i)] has \(row.count) numbers (\(row.allSatisfy(\.isFinite) ? "finite" : "not all finite")); every row needs \(targets.count) finite numbers (\(targets.joined(separator: ", ")))")
        }
        // Two strata, below and above the first target's median, so validation spans the range.
        let median = values.map { $0[0] }.sorted()[values.count / 2]
        let dataset = try LabelledItems(items: items, labels: values.map { $0[0] < median ? "low" : "high" }, kind: kind)
        let byID = Dictionary(uniqueKeysWithValues: values.indices.map { (dataset.sourceID(at: $0), values[$0]) })
        let source = try DataSource(name: "the training data", train: dataset)
            .with(regression: RegressionTargets(names: targets, byID: byID, source: memory))
        return (source, RegressionTask(targets: targets), kind)
    }
}

/// Training data for a `MultiLabelClassifier`: items and, for each, the set of labels it carries (possibly none).
public enum MultiLabelData: Sendable {
    case images([RGBImage], labels: [[String]])
    case texts([String], labels: [[String]])
    /// A folder or table and a CSV (`a|b`) or JSONL (a list) file of label sets matched to its items, as
    /// `graft fit --task multi-label --labels FILE` reads it.
    case file(TrainingData, labels: URL, column: String = "labels")

    func resolve() throws -> (source: DataSource, task: any TransferTask, input: DataKind) {
        switch self {
        case let .images(images, labels): return try inMemory(images.map(DataItem.image), kind: .image, labels: labels)
        case let .texts(texts, labels): return try inMemory(texts.map(DataItem.text), kind: .text, labels: labels)
        case let .file(data, url, column):
            let dataset = try data.makeDataset()
            let file = try MultiLabelTargets(contentsOf: url, column: column)
            return (try DataSource(name: "the training data", train: dataset).with(multiLabel: file), MultiLabelTask(labels: file.names), dataset.kind)
        }
    }

    private func inMemory(_ items: [DataItem], kind: DataKind, labels: [[String]]) throws -> (source: DataSource, task: any TransferTask, input: DataKind) {
        guard labels.count == items.count else { throw GraftError.labelCount(inputs: items.count, labels: labels.count) }
        let names = Array(Set(labels.joined())).sorted()
        guard names.count >= 2 else { throw GraftError.invalidParameters("multi-label data needs at least two distinct labels, found \(names)") }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        // Splits stratify by each item's first label (or "none").
        let dataset = try LabelledItems(items: items, labels: labels.map { $0.sorted().first ?? "none" }, kind: kind)
        let byID = Dictionary(uniqueKeysWithValues: labels.indices.map { (dataset.sourceID(at: $0), labels[$0].compactMap { index[$0] }) })
        let source = try DataSource(name: "the training data", train: dataset)
            .with(multiLabel: MultiLabelTargets(names: names, byID: byID, source: URL(fileURLWithPath: "labels")))
        return (source, MultiLabelTask(labels: names), kind)
    }
}
