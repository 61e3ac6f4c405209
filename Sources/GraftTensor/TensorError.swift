/// What went wrong in a tensor operation, naming the op and the shapes involved.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(op: String, lhs: [Int], rhs: [Int])
    case invalidShape(op: String, shape: [Int], reason: String)
    case invalidArgument(op: String, reason: String)
    case noGradient(reason: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, l, r): return "\(op): shapes \(l) and \(r) do not match"
        case let .invalidShape(op, s, why): return "\(op): invalid shape \(s): \(why)"
        case let .invalidArgument(op, why): return "\(op): \(why)"
        case let .noGradient(why): return "backward: \(why)"
        }
    }
}
