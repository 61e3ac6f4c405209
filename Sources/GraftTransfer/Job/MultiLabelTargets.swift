import Foundation
import GraftHeads

/// The label set of each item, read from a CSV or JSON Lines file and matched to feature store rows by
/// id like `RegressionTargets` (`id`, else `path`, else `<file name>#<record number>` of `text` rows).
/// CSV: a column (default `labels`) of names separated by `|`, empty for none; JSONL: a list of strings
/// (or the same `|` string).
///
/// ```
/// path,labels                        {"text": "...", "labels": ["sport", "politics"]}
/// img/a.png,shirt|sneaker            {"text": "...", "labels": []}
/// ```
public struct MultiLabelTargets: Sendable {
    /// Label names: the given ones, or every name in the file, sorted.
    public var names: [String]
    public var source: URL
    /// Label indices (into `names`) by item id, ascending.
    public var byID: [String: [Int]]

    /// Label sets already in memory (the Swift API's): indices into `names`, keyed by item id.
    public init(names: [String], byID: [String: [Int]], source: URL) {
        self.names = names; self.byID = byID; self.source = source
    }

    public init(contentsOf url: URL, column: String = "labels", names given: [String]? = nil) throws {
        source = url
        let table = try TaskTable(contentsOf: url)
        guard table.columns.contains(column) else { throw TaskDataError.missingColumn(path: url.path, column: column, available: table.columns) }
        func split(_ value: String) -> [String] {
            value.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        names = given ?? Array(Set(table.rows.flatMap { split($0.fields[column] ?? "") })).sorted()
        guard !names.isEmpty else { throw TaskDataError.unreadable(path: url.path, reason: "no labels in column '\(column)'") }
        let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        byID = [:]
        for row in table.rows {
            var set = Set<Int>()
            for label in split(row.fields[column] ?? "") {
                guard let i = index[label] else { throw TaskDataError.unknownLabel(path: url.path, line: row.line, label: label, known: names) }
                set.insert(i)
            }
            guard byID[row.id] == nil else { throw TaskDataError.duplicateID(path: url.path, line: row.line, id: row.id) }
            byID[row.id] = set.sorted()
        }
    }

    /// The label sets of `ids`; an id without a row is an error naming the store.
    public func sets(for ids: [String], store: String) throws -> [[Int]] {
        try ids.map { id in
            guard let set = byID[id] else { throw TaskDataError.missingTarget(path: source.path, id: id, store: store) }
            return set
        }
    }
}
