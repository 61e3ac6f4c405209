/// Why an imported ONNX graph cannot be fine-tuned from the node asked for; every case names the file.
public enum OnnxFineTuneError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `--unfreeze-from` names no node or value of the graph between its input and the classifier's input.
    case unknownStart(file: String, start: String, valid: [String])
    /// Operators in the trainable part that have no backward pass here: each op type (with the variant) and
    /// the nodes that use it. Thrown, all together, before anything runs.
    case noBackward(file: String, operators: [String: [String]])

    public var description: String {
        switch self {
        case let .unknownStart(file, start, valid):
            return "\(file): cannot train from '\(start)': it is no node (or node output) between the graph input and the classifier's input; "
                + "valid nodes (first trainable one, in order): \(valid.joined(separator: ", "))"
        case let .noBackward(file, operators):
            let list = operators.keys.sorted().map { "\($0) (\(operators[$0]!.count) node\(operators[$0]!.count == 1 ? "" : "s"), e.g. '\(operators[$0]![0])')" }
            return "\(file): these operators of the trainable part have no backward pass: \(list.joined(separator: "; ")); "
                + "start training at a later node (--unfreeze-from)"
        }
    }
}
