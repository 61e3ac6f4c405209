/// Why an ONNX graph cannot be loaded or run; every case names the file and the node or tensor at fault.
public enum OnnxError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The bytes are not a ModelProto (truncated, a bad wire type, invalid UTF-8...).
    case malformed(file: String, reason: String)
    /// The model has no graph.
    case noGraph(file: String)
    /// A tensor (initializer, Constant value, test-data tensor) is inconsistent: data type, dims, byte count.
    case invalidTensor(file: String, tensor: String, reason: String)
    /// A node reads a value that no node, graph input or initializer produces.
    case danglingInput(file: String, node: String, input: String)
    /// Two producers for one value name.
    case duplicateValue(file: String, name: String)
    /// The nodes depend on each other in a loop (names of the nodes on it, or left unordered).
    case cycle(file: String, nodes: [String])
    /// A graph output that nothing produces.
    case missingOutput(file: String, output: String)
    /// Operators the executor does not implement: each op type with the nodes that use it.
    /// Thrown, all of them together, before anything runs.
    case unsupportedOperators(file: String, operators: [String: [String]])
    /// A supported operator used with an attribute value or input the executor does not implement.
    case unsupportedVariant(file: String, node: String, op: String, what: String)
    /// An operator failed while running (shapes that do not fit, a bad attribute).
    case nodeFailed(file: String, node: String, op: String, reason: String)
    /// A feed or a cut point that the graph does not have.
    case unknownValue(file: String, name: String, known: [String])

    public var description: String {
        switch self {
        case let .malformed(file, reason): return "\(file): not a valid ONNX model: \(reason)"
        case let .noGraph(file): return "\(file): ONNX model has no graph"
        case let .invalidTensor(file, tensor, reason): return "\(file): tensor '\(tensor)': \(reason)"
        case let .danglingInput(file, node, input):
            return "\(file): node '\(node)' reads '\(input)', which no node, graph input or initializer produces"
        case let .duplicateValue(file, name): return "\(file): value '\(name)' is produced twice"
        case let .cycle(file, nodes): return "\(file): the graph has a cycle through nodes \(nodes.prefix(10).joined(separator: ", "))"
        case let .missingOutput(file, output): return "\(file): graph output '\(output)' is produced by no node"
        case let .unsupportedOperators(file, operators):
            let list = operators.keys.sorted().map { "\($0) (\(operators[$0]!.count) node\(operators[$0]!.count == 1 ? "" : "s"), e.g. '\(operators[$0]![0])')" }
            return "\(file): unsupported ONNX operators: \(list.joined(separator: "; "))"
        case let .unsupportedVariant(file, node, op, what): return "\(file): node '\(node)' (\(op)): unsupported: \(what)"
        case let .nodeFailed(file, node, op, reason): return "\(file): node '\(node)' (\(op)) failed: \(reason)"
        case let .unknownValue(file, name, known):
            return "\(file): no value named '\(name)' (e.g. \(known.prefix(8).joined(separator: ", ")))"
        }
    }
}
