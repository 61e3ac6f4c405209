/// Errors of the transfer layer, naming the store, bundle, class or item involved.
public enum TransferError: Error, CustomStringConvertible, Equatable {
    case storeMismatch(store: String, expected: String, found: String)
    case corruptStore(path: String, reason: String)
    case emptyData(String)
    case singleClass(String)
    case unseenLabels([String])
    case bundle(path: String, reason: String)
    case unsupported(String)
    /// Training produced non-finite values (a learning rate too high, or a head with huge weights).
    case diverged(String)
    case cancelled

    public var description: String {
        switch self {
        case let .storeMismatch(store, expected, found):
            return "feature store \(store) was made by \(found), but \(expected) is in use; re-extract or use the matching model"
        case let .corruptStore(path, why): return "feature store \(path): \(why)"
        case let .emptyData(what): return "no data: \(what)"
        case let .singleClass(what): return "cannot fit a classifier on a single class: \(what)"
        case let .unseenLabels(labels): return "labels never seen in training: \(labels.joined(separator: ", "))"
        case let .bundle(path, why): return "bundle \(path): \(why)"
        case let .unsupported(what): return "unsupported: \(what)"
        case let .diverged(what): return "training diverged: \(what)"
        case .cancelled: return "cancelled"
        }
    }
}
