import Foundation
import GraftModels
import GraftWeights

/// `graft inspect model.onnx`: the weights, then the graph: inputs, outputs, operators (those the
/// executor lacks named) and the cut points `graft extract --layer` takes (every node output).
struct OnnxInspection: Encodable {
    struct Value: Encodable { var name: String; var dims: [Int?]? }
    struct CutPoint: Encodable { var value: String; var op: String; var node: String }
    var weights: WeightSummary
    var inputs: [Value]
    var outputs: [Value]
    var opset: Int
    var producer: String
    var operators: [String: Int]
    var unsupportedOperators: [String]
    var cutPoints: [CutPoint]

    static func run(_ file: String, weights: WeightFile, json: Bool) throws {
        let graph = try OnnxGraph(contentsOf: URL(fileURLWithPath: file))
        var ops: [String: Int] = [:]
        for n in graph.nodes { ops[n.opType, default: 0] += 1 }
        let report = OnnxInspection(
            weights: WeightSummary(weights), inputs: graph.inputs.map { Value(name: $0.name, dims: $0.dims) },
            outputs: graph.outputs.map { Value(name: $0.name, dims: $0.dims) }, opset: graph.opsetVersion, producer: graph.producer,
            operators: ops, unsupportedOperators: OnnxOperators.unsupported(in: graph.nodes).map { $0.keys.sorted() } ?? [],
            cutPoints: OnnxModel.cutPoints(of: graph).map { CutPoint(value: $0.value, op: $0.op, node: $0.node) })
        if json { return try CLIOutput.printJSON(report) }
        // The graph first (what a user cuts and runs), the initializer table after it (long: every weight).
        func dims(_ v: Value) -> String { v.dims.map { "[" + $0.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]" } ?? "?" }
        print("graph: opset \(report.opset), \(graph.nodes.count) nodes" + (report.producer.isEmpty ? "" : ", from \(report.producer)"))
        for v in report.inputs { print("  input  \(v.name) \(dims(v))") }
        for v in report.outputs { print("  output \(v.name) \(dims(v))") }
        print("  operators: " + ops.keys.sorted().map { "\($0) x\(ops[$0]!)" }.joined(separator: ", "))
        if !report.unsupportedOperators.isEmpty {
            print("  not supported by Graft's executor: \(report.unsupportedOperators.joined(separator: ", "))")
        }
        print("\ncut points (graft extract --layer VALUE; default: the graph output):")
        for c in report.cutPoints { print("  \(c.value)  (\(c.op))") }
        print("\n" + inspectReport(weights))
    }
}
