import Foundation
import GraftData
import GraftHeads

/// Numeric targets per item, read from a CSV (header row) or JSON Lines file and matched to feature
/// store rows by id. The id column is `id` when there is one; else `path` (image tables: the path as
/// written, which is the store's id for table and folder data); else `text` rows are keyed
/// `<file name>#<record number>` as `TableDataset` keys them, so the table a store was extracted
/// from can carry its own target columns.
///
/// ```
/// path,label,rotation,count          {"text": "a fine film", "label": "x", "score": 4.5}
/// img/a.png,x,12.5,3
/// ```
public struct RegressionTargets: Sendable {
    public var names: [String]
    public var source: URL
    /// Target values by item id, in `names` order.
    public var byID: [String: [Float]]

    /// Targets already in memory (the Swift API's), keyed by item id; `source` names them in errors.
    public init(names: [String], byID: [String: [Float]], source: URL) {
        self.names = names; self.byID = byID; self.source = source
    }

    public init(contentsOf url: URL, columns names: [String]) throws {
        guard !names.isEmpty else { throw TaskDataError.unreadable(path: url.path, reason: "no target column named") }
        self.names = names
        source = url
        byID = [:]
        let table = try TaskTable(contentsOf: url)
        for name in names where !table.columns.contains(name) {
            throw TaskDataError.missingColumn(path: url.path, column: name, available: table.columns)
        }
        for row in table.rows {
            let values = try names.map { name -> Float in
                let raw = row.fields[name] ?? ""
                guard let v = Float(raw.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                    throw TaskDataError.notANumber(path: url.path, line: row.line, column: name, value: raw)
                }
                return v
            }
            guard byID[row.id] == nil else { throw TaskDataError.duplicateID(path: url.path, line: row.line, id: row.id) }
            byID[row.id] = values
        }
    }

    /// The targets of `ids` as `[ids.count, names.count]`; an id without a row is an error naming the store.
    public func matrix(for ids: [String], store: String) throws -> FeatureMatrix {
        var values = [Float]()
        values.reserveCapacity(ids.count * names.count)
        for id in ids {
            guard let row = byID[id] else { throw TaskDataError.missingTarget(path: source.path, id: id, store: store) }
            values += row
        }
        return try FeatureMatrix(rows: ids.count, columns: names.count, values: values)
    }
}

/// The rows of a CSV or JSON Lines task file as strings by column, each with its id and line.
struct TaskTable {
    struct Row { var id: String; var line: Int; var fields: [String: String] }
    var columns: [String] = []
    var rows: [Row] = []

    init(contentsOf url: URL) throws {
        let bytes: Data
        do { bytes = try Decompression.contents(of: url) } catch { throw TaskDataError.unreadable(path: url.path, reason: "\(error)") }
        let jsonl = ["jsonl", "ndjson"].contains(url.pathExtension.lowercased())
        var raw: [(line: Int, fields: [String: String])] = []
        if jsonl {
            var seen = Set<String>()
            for (i, lineBytes) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
                if lineBytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                guard let object = (try? JSONSerialization.jsonObject(with: Data(lineBytes))) as? [String: Any] else {
                    throw TaskDataError.malformed(path: url.path, line: i + 1, reason: "not a JSON object")
                }
                var fields: [String: String] = [:]
                for (k, v) in object {
                    switch v {
                    case let s as String: fields[k] = s
                    case let n as NSNumber: fields[k] = n.stringValue
                    case let list as [Any]:
                        // Label lists: stored as the CSV form, `a|b|c`.
                        guard let labels = list as? [String], !labels.contains(where: { $0.contains("|") }) else {
                            throw TaskDataError.malformed(path: url.path, line: i + 1, reason: "'\(k)' must be a list of strings without '|'")
                        }
                        fields[k] = labels.joined(separator: "|")
                    default: fields[k] = "\(v)"
                    }
                    if seen.insert(k).inserted { columns.append(k) }
                }
                raw.append((i + 1, fields))
            }
        } else {
            let records: [CSVReader.Record]
            do { records = try CSVReader.parse([UInt8](bytes)) } catch {
                switch error {
                case let .malformed(line, reason): throw TaskDataError.malformed(path: url.path, line: line, reason: reason)
                }
            }
            guard let header = records.first else { throw TaskDataError.unreadable(path: url.path, reason: "empty file") }
            columns = header.fields
            for record in records.dropFirst() {
                guard record.fields.count == columns.count else {
                    throw TaskDataError.malformed(path: url.path, line: record.line, reason: "\(record.fields.count) fields, the header has \(columns.count)")
                }
                raw.append((record.line, Dictionary(zip(columns, record.fields), uniquingKeysWith: { a, _ in a })))
            }
        }
        guard !raw.isEmpty else { throw TaskDataError.unreadable(path: url.path, reason: "no data rows") }
        let key = ["id", "path"].first(where: columns.contains) ?? (columns.contains("text") ? nil : "id")
        for (record, row) in raw.enumerated() {
            let id: String
            if let key {
                guard let value = row.fields[key] else { throw TaskDataError.missingColumn(path: url.path, column: key, available: columns) }
                id = value
            } else {
                id = "\(url.lastPathComponent)#\(record)"
            }
            rows.append(Row(id: id, line: row.line, fields: row.fields))
        }
    }
}
