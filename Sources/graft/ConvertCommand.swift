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
        discussion: """
            Tensors keep their names, dtypes, shapes and file order; string metadata is carried over. The output is \
            written atomically: a temporary .OUT.PID.N.tmp beside it, renamed into place. SIGINT/SIGTERM remove it; \
            after a SIGKILL the next run to the same output removes it.
            """)

    @Argument(help: "The weights file to read.")
    var input: String

    @Argument(help: "The .safetensors file to write.")
    var output: String

    @Flag(help: CLIOutput.jsonHelp)
    var json = false

    struct Report: Encodable {
        let input: String
        let output: String
        /// The input's format (`graft inspect` names).
        let format: String
        let tensors: Int
        let bytes: Int
    }

    func validate() throws {
        guard output.hasSuffix(".safetensors") else {
            throw ValidationError("the output must end in .safetensors")
        }
    }

    func run() throws {
        let target = URL(fileURLWithPath: output)
        TemporaryFiles.guardOutput(target)
        let weights = try WeightFile.open(URL(fileURLWithPath: input))
        try weights.writeSafetensors(to: target)
        let summary = WeightSummary(weights)
        let report = Report(input: input, output: output, format: weights.format.rawValue, tensors: summary.tensorCount, bytes: summary.totalBytes)
        if json { return try CLIOutput.printJSON(report) }
        print("wrote \(output): \(report.tensors) tensors, \(report.bytes) bytes (from \(report.format))")
    }
}
