/// Why a data set could not be opened or read. Each case names the file,
/// folder, line or column involved.
public enum DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    case unreadable(path: String, reason: String)
    case notADirectory(path: String)
    /// An image folder without class subfolders.
    case noClasses(root: String)
    /// A class subfolder holding no files.
    case emptyClass(name: String, path: String)
    case decompression(path: String, reason: String)
    /// A CSV/JSONL record that cannot be parsed. `line` is 1-based.
    case malformedRecord(path: String, line: Int, reason: String)
    case missingColumn(path: String, column: String, available: [String])
    /// A label not among the given class names.
    case unknownLabel(path: String, line: Int, label: String)
    /// An IDX file whose header or size is wrong.
    case malformedIDX(path: String, reason: String)
    /// Two files that must agree (e.g. IDX images and labels) do not.
    case mismatch(String)
    /// A dataset with no items.
    case empty(path: String)

    public var description: String {
        switch self {
        case .unreadable(let p, let r): return "\(p): cannot read (\(r))"
        case .notADirectory(let p): return "\(p): not a directory"
        case .noClasses(let p): return "\(p): no class subfolders (expected one folder per class)"
        case .emptyClass(let n, let p): return "class '\(n)' is empty: no files in \(p)"
        case .decompression(let p, let r): return "\(p): cannot decompress (\(r))"
        case .malformedRecord(let p, let l, let r): return "\(p):\(l): \(r)"
        case .missingColumn(let p, let c, let a):
            return "\(p): no column '\(c)' (columns: \(a.joined(separator: ", ")))"
        case .unknownLabel(let p, let l, let label): return "\(p):\(l): label '\(label)' is not a known class"
        case .malformedIDX(let p, let r): return "\(p): not a valid IDX file (\(r))"
        case .mismatch(let m): return m
        case .empty(let p): return "\(p): no items"
        }
    }
}
