import ArgumentParser
import Foundation
import GraftModels
import GraftTransfer
import GraftWeights

/// `graft export --bundle B --format onnx|safetensors --out FILE`: a trained model for other runtimes.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trained bundle as one ONNX graph (backbone, pooling, head, scores) or its weights as safetensors.",
        discussion: """
            onnx: image bundles take `pixels` float32 [N, 3, H, W] after the bundle's preprocessing (NCHW; the recipe \
            is in the metadata `graft.preprocessing`); text bundles take int64 `input_ids`, `attention_mask` and \
            `token_type_ids` [N, L] (tokenization stays outside the graph, as in every ONNX text export). The output \
            `scores` [N, K] is what `graft predict` reports: class probabilities, label probabilities or values, \
            columns in the order of `graft.classes`. Opset 17, fp32 weights.
            safetensors: the weights alone under the reference implementation's keys (docs/EXPORT.md).
            Written atomically. Detection bundles, k-NN heads and VGG backbones are not exported (a typed error says so).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case onnx, safetensors }

    @Option(help: "The bundle directory (graft fit/finetune/train --out).") var bundle: String
    @Option(help: "onnx or safetensors.") var format: Format = .onnx
    @Option(help: "The file to write (.onnx or .safetensors).") var out: String
    @Flag(help: CLIOutput.jsonHelp) var json = false

    struct Report: Encodable {
        let bundle: String, format: String, out: String, bytes: Int
        let inputs: [String]?, outputs: [String]?, nodes: Int?, opset: Int?
        let metadata: [String: String]
    }

    func validate() throws {
        let suffix = format == .onnx ? ".onnx" : ".safetensors"
        guard out.hasSuffix(suffix) else { throw ValidationError("--out must end in \(suffix) for --format \(format.rawValue)") }
    }

    func run() throws {
        let target = URL(fileURLWithPath: out)
        TemporaryFiles.guardOutput(target)
        let model = try TrainedModel(bundle: URL(fileURLWithPath: bundle), precision: .fp32)
        let report: Report
        switch format {
        case .onnx:
            let onnx = try ONNXBundleExport.model(model, producerVersion: GraftVersion.current)
            let bytes = try onnx.encoded()
            try AtomicFile.write(bytes, to: target)
            report = Report(bundle: bundle, format: "onnx", out: out, bytes: bytes.count,
                            inputs: onnx.graph.input.map { $0.name }, outputs: onnx.graph.output.map { $0.name },
                            nodes: onnx.graph.node.count, opset: Int(ONNXGraphBuilder.opset),
                            metadata: Dictionary(onnx.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }))
        case .safetensors:
            let metadata = try SafetensorsBundleExport.write(model, to: target)
            let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
            report = Report(bundle: bundle, format: "safetensors", out: out, bytes: size, inputs: nil, outputs: nil, nodes: nil, opset: nil, metadata: metadata)
        }
        if json { return try CLIOutput.printJSON(report) }
        if let nodes = report.nodes {
            print("wrote \(out): ONNX opset \(report.opset ?? 0), \(nodes) nodes, inputs \(report.inputs ?? []), output \(report.outputs ?? []), \(report.bytes) bytes")
        } else {
            print("wrote \(out): safetensors, \(report.bytes) bytes")
        }
    }
}
