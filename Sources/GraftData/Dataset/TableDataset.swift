import Foundation

/// A CSV or JSON Lines file with one example per record: an input column
/// (`path` to an image, or `text`) and a `label` column. Files may be gzip or
/// bzip2 compressed (detected from their leading bytes).
///
/// ```
/// path,label                      {"text": "a fine film", "label": "fresh"}
/// images/cat1.jpg,cat             {"text": "dull", "label": "rotten"}
/// ```
/// Relative image paths resolve against the table's folder. Labels may be
/// strings or (in JSONL) numbers; class names are sorted (numerically when all
/// are integers) unless given.
public struct TableDataset: Dataset {
    /// Which column holds the input.
    public enum Input: Sendable, Equatable {
        /// Column of image paths.
        case path(String)
        /// Column of texts.
        case text(String)
    }

    public let source: URL
    public let input: Input
    public let classNames: [String]
    /// Input values (paths as written, or texts), in record order.
    public let values: [String]
    private let labelsByIndex: [Int]
    /// Record numbers (0-based among data records) of the kept rows, for ids.
    private let recordNumbers: [Int]
    public let decoder: ImageDecoder

    public var count: Int { values.count }
    public var kind: DataKind {
        if case .text = input { return .text }
        return .image
    }

    /// Reads a CSV file with a header row.
    /// - Parameters:
    ///   - input: input column; `nil` picks `path` (image) or else `text`.
    ///   - labelColumn: column of class labels.
    ///   - classNames: fixed class order; labels outside it are errors. `nil` collects and sorts them.
    ///   - keepLabels: keep only records with these labels (e.g. drop "plot" rows).
    public init(csv url: URL, input: Input? = nil, labelColumn: String = "label", classNames: [String]? = nil,
                keepLabels: Set<String>? = nil, decoder: ImageDecoder = ImageDecoder()) throws(DatasetError) {
        let bytes = try Decompression.contents(of: url)
        let records: [CSVReader.Record]
        do {
            records = try CSVReader.parse([UInt8](bytes))
        } catch {
            switch error {
            case .malformed(let line, let reason): throw .malformedRecord(path: url.path, line: line, reason: reason)
            }
        }
        guard let header = records.first else { throw .empty(path: url.path) }
        let columns = header.fields
        let chosen = try Self.resolve(input, columns: columns, path: url.path)
        guard let inputIndex = columns.firstIndex(of: chosen.column) else {
            throw .missingColumn(path: url.path, column: chosen.column, available: columns)
        }
        guard let labelIndex = columns.firstIndex(of: labelColumn) else {
            throw .missingColumn(path: url.path, column: labelColumn, available: columns)
        }
        var rows: [(line: Int, value: String, label: String)] = []
        rows.reserveCapacity(records.count - 1)
        for record in records.dropFirst() {
            guard record.fields.count == columns.count else {
                throw .malformedRecord(path: url.path, line: record.line,
                                       reason: "\(record.fields.count) fields, the header has \(columns.count)")
            }
            rows.append((record.line, record.fields[inputIndex], record.fields[labelIndex]))
        }
        try self.init(source: url, input: chosen.input, rows: rows, classNames: classNames,
                      keepLabels: keepLabels, decoder: decoder)
    }

    /// Reads a JSON Lines file: one object per line with the input and label keys.
    public init(jsonl url: URL, input: Input? = nil, labelColumn: String = "label", classNames: [String]? = nil,
                keepLabels: Set<String>? = nil, decoder: ImageDecoder = ImageDecoder()) throws(DatasetError) {
        let bytes = try Decompression.contents(of: url)
        var rows: [(line: Int, value: String, label: String)] = []
        var chosen: (input: Input, column: String)?
        var lineNumber = 0
        for lineBytes in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = lineBytes.last == UInt8(ascii: "\r") ? lineBytes.dropLast() : lineBytes
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            if let bad = UTF8Check.firstInvalidOffset(line) {
                throw .malformedRecord(path: url.path, line: lineNumber, reason: UTF8Check.reason(line, at: bad) + " at column \(bad + 1)")
            }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                throw .malformedRecord(path: url.path, line: lineNumber, reason: "not a JSON object")
            }
            if chosen == nil { chosen = try Self.resolve(input, columns: Array(object.keys).sorted(), path: url.path) }
            guard let c = chosen, let value = object[c.column] as? String else {
                throw .malformedRecord(path: url.path, line: lineNumber,
                                       reason: "no string '\(chosen?.column ?? "path/text")' key")
            }
            let label: String
            switch object[labelColumn] {
            case let s as String: label = s
            case let n as NSNumber: label = n.stringValue
            default: throw .malformedRecord(path: url.path, line: lineNumber, reason: "no '\(labelColumn)' key")
            }
            rows.append((lineNumber, value, label))
        }
        guard let c = chosen else { throw .empty(path: url.path) }
        try self.init(source: url, input: c.input, rows: rows, classNames: classNames,
                      keepLabels: keepLabels, decoder: decoder)
    }

    private init(source: URL, input: Input, rows: [(line: Int, value: String, label: String)],
                 classNames given: [String]?, keepLabels: Set<String>?, decoder: ImageDecoder) throws(DatasetError) {
        let kept = rows.enumerated().filter { keepLabels?.contains($0.element.label) ?? true }
        guard !kept.isEmpty else { throw .empty(path: source.path) }
        let names = given ?? sortedClassNames(Set(kept.map { $0.element.label }))
        let lookup = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var labels: [Int] = []
        labels.reserveCapacity(kept.count)
        for (_, row) in kept {
            guard let l = lookup[row.label] else { throw .unknownLabel(path: source.path, line: row.line, label: row.label) }
            labels.append(l)
        }
        self.source = source
        self.input = input
        self.classNames = names
        self.values = kept.map { $0.element.value }
        self.recordNumbers = kept.map { $0.offset }
        self.labelsByIndex = labels
        self.decoder = decoder
    }

    private static func resolve(_ input: Input?, columns: [String], path: String) throws(DatasetError)
        -> (input: Input, column: String) {
        switch input {
        case .path(let c)?: return (.path(c), c)
        case .text(let c)?: return (.text(c), c)
        case nil:
            if columns.contains("path") { return (.path("path"), "path") }
            if columns.contains("text") { return (.text("text"), "text") }
            throw .missingColumn(path: path, column: "path' or 'text", available: columns)
        }
    }

    public func label(at index: Int) -> Int { labelsByIndex[index] }

    /// Image rows: the path as written. Text rows: `<file name>#<record number>`.
    public func sourceID(at index: Int) -> String {
        if case .path = input { return values[index] }
        return "\(source.lastPathComponent)#\(recordNumbers[index])"
    }

    /// The image file of an image row, resolved against the table's folder.
    public func url(at index: Int) -> URL {
        let value = values[index]
        return value.hasPrefix("/") ? URL(fileURLWithPath: value)
            : source.deletingLastPathComponent().appendingPathComponent(value)
    }

    public func item(at index: Int) throws -> DataItem {
        switch input {
        case .text: return .text(values[index])
        case .path: return .image(try decoder.decode(contentsOf: url(at: index)))
        }
    }
}
