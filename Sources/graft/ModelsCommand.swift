import ArgumentParser
import Foundation
import Graft
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer
import GraftWeights

/// `graft models`: the zoo and the architectures Graft can build.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List pretrained models and supported architectures.")

    @Flag(help: "Also build every architecture to count parameters and probe feature sizes (slower).")
    var all = false

    func run() throws {
        print("name                 kind          params   input  features  weights")
        for e in ModelZoo.entries {
            var params = "-", input = "-", features = "-"
            if e.kind == .image, let m = try? ImageModels.make(e.architecture) {
                params = String(format: "%.2fM", Double(m.parameterCount) / 1e6)
                input = "\(m.preprocessing.inputSize)"; features = "\(m.featureSize)"
            } else if e.kind == .text {
                params = "22.7M"; input = "≤256 tok"; features = "384"
            } else if e.kind == .wordVectors { features = "300" }
            print("\(e.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(e.kind.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(params.leftPad(7))  \(input.leftPad(5))  \(features.leftPad(8))  \(e.isInstalled ? "installed" : "missing (make setup)")")
        }
        guard all else { print("\narchitectures for your own weights (--arch): \(ImageModels.architectures.joined(separator: ", "))"); return }
        print("\narchitecture         params   input  features  cut points")
        for a in ImageModels.architectures {
            let m = try ImageModels.make(a)
            print("\(a.padding(toLength: 20, withPad: " ", startingAt: 0)) \(String(format: "%.2fM", Double(m.parameterCount) / 1e6).leftPad(7))  \("\(m.preprocessing.inputSize)".leftPad(5))  \("\(m.featureSize)".leftPad(8))  \(m.cutPoints.count) (\(m.cutPoints.prefix(3).joined(separator: ", ")), ..., penultimate)")
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
