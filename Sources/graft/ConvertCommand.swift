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

/// `graft convert IN OUT.safetensors`: any supported weights file to safetensors.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a weights file (PyTorch, ONNX, .npy/.npz, safetensors) to safetensors.",
        discussion: "Tensors keep their names, dtypes, shapes and file order; string metadata is carried over. The output is written atomically.")

    @Argument(help: "The weights file to read.")
    var input: String

    @Argument(help: "The .safetensors file to write.")
    var output: String

    func validate() throws {
        guard output.hasSuffix(".safetensors") else {
            throw ValidationError("the output must end in .safetensors")
        }
    }

    func run() throws {
        let weights = try WeightFile.open(URL(fileURLWithPath: input))
        try weights.writeSafetensors(to: URL(fileURLWithPath: output))
        let summary = WeightSummary(weights)
        print("wrote \(output): \(summary.tensorCount) tensors, \(summary.totalBytes) bytes (from \(weights.format.rawValue))")
    }
}
