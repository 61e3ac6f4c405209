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
        discussion: "Reads safetensors, PyTorch .pth/.pt/.bin (zip and legacy), ONNX, .npy and .npz. Nothing in the file is executed.")

    @Argument(help: "The weights file.")
    var file: String

    @Flag(help: "Print a JSON summary instead of a table.")
    var json = false

    func run() throws {
        let weights = try WeightFile.open(URL(fileURLWithPath: file))
        print(json ? try WeightSummary(weights).json() : inspectReport(weights))
    }
}
