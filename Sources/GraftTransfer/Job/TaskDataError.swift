/// Bad task data (targets files, label lists): each case names the file and, where there is one, the line.
public enum TaskDataError: Error, CustomStringConvertible, Equatable, Sendable {
    case unreadable(path: String, reason: String)
    case missingColumn(path: String, column: String, available: [String])
    case notANumber(path: String, line: Int, column: String, value: String)
    case malformed(path: String, line: Int, reason: String)
    case duplicateID(path: String, line: Int, id: String)
    /// A label outside the given label names.
    case unknownLabel(path: String, line: Int, label: String, known: [String])
    /// A feature store row whose id the targets file does not hold.
    case missingTarget(path: String, id: String, store: String)
    /// An item of a data set (network training) whose id the targets file does not hold.
    case missingItem(path: String, id: String, data: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "\(path): \(reason)"
        case let .missingColumn(path, column, available):
            "\(path): no column '\(column)' (columns: \(available.joined(separator: ", ")))"
        case let .notANumber(path, line, column, value): "\(path):\(line): column '\(column)' holds '\(value)', not a finite number"
        case let .malformed(path, line, reason): "\(path):\(line): \(reason)"
        case let .duplicateID(path, line, id): "\(path):\(line): id '\(id)' appears a second time"
        case let .unknownLabel(path, line, label, known): "\(path):\(line): unknown label '\(label)' (labels: \(known.joined(separator: ", ")))"
        case let .missingTarget(path, id, store): "\(path): no row for '\(id)' (an item of feature store \(store))"
        case let .missingItem(path, id, data): "\(path): no row for '\(id)' (an item of \(data))"
        }
    }
}
