/// What is wrong with a detection data set, naming the file and the line (YOLO txt) or entry (COCO JSON).
public enum DetectionDataError: Error, CustomStringConvertible, Equatable, Sendable {
    case unreadable(path: String, reason: String)
    /// A YOLO label line (`class cx cy w h`, 1-based line).
    case label(path: String, line: Int, reason: String)
    /// A COCO JSON entry, e.g. `annotations[12] (id 57)`.
    case coco(path: String, entry: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(p, r): return "\(p): cannot read (\(r))"
        case let .label(p, l, r): return "\(p):\(l): \(r)"
        case let .coco(p, e, r): return "\(p): \(e): \(r)"
        }
    }
}
