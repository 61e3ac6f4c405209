import ArgumentParser
import Foundation
import GraftWeights
import Graft
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// `graft inspect FILE [--json]`: the tensors of any supported weights file.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the tensors (name, dtype, shape, bytes) of a weights file.",
        discussion: "Reads safetensors, PyTorch .pth/.pt/.bin (zip and legacy), ONNX, .npy and .npz. Nothing in the file is executed. For an ONNX graph, also its inputs, outputs and cut points (node outputs, for `graft extract --layer`).")

    @Argument(help: "The weights file.")
    var file: String

    @Flag(help: CLIOutput.jsonHelp)
    var json = false

    func run() throws {
        let weights = try WeightFile.open(URL(fileURLWithPath: file))
        if file.lowercased().hasSuffix(".onnx") { return try OnnxInspection.run(file, weights: weights, json: json) }
        if json { return try CLIOutput.printJSON(WeightSummary(weights)) }
        print(inspectReport(weights))
    }
}
