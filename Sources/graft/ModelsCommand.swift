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
    @Flag(help: CLIOutput.jsonHelp) var json = false

    struct Report: Encodable {
        struct Model: Encodable {
            let name, kind, architecture: String
            let installed: Bool
            let parameters: Int?
            /// Image side in pixels, or the longest text in tokens.
            let inputSize: Int?
            let features: Int?
        }
        struct Architecture: Encodable {
            let name: String
            // Filled with --all only.
            let parameters: Int?
            let inputSize: Int?
            let features: Int?
            let cutPoints: [String]?
        }
        let models: [Model]
        /// What `--arch` accepts with `--model FILE`.
        let architectures: [Architecture]
    }

    @Flag(help: "List the models available without a download: the zoo, the Hugging Face and torch hub caches.")
    var cached = false
    @Option(help: "Fetch a model into the shared caches and print where it is (hf:ORG/NAME[@REV], torchvision:NAME, or an https:// URL with --arch), e.g. before an offline job.")
    var download: String?
    @Option(help: "Architecture of an https:// weights URL given with --download.") var arch: String?

    func run() throws {
        if cached { printCached(); return }  // ModelsCommand+Cached.swift
        if let download { return try fetch(download) }  // ModelsCommand+Cached.swift
        let models = ModelZoo.entries.map { e -> Report.Model in
            switch e.kind {
            case .image:
                let m = try? ImageModels.make(e.architecture)
                return .init(name: e.name, kind: e.kind.rawValue, architecture: e.architecture, installed: e.isInstalled,
                             parameters: m?.parameterCount, inputSize: m?.preprocessing.inputSize, features: m?.featureSize)
            case .text:
                // MiniLM-L6: embeddings 11,918,592 + 6 layers x 1,774,464 (the checkpoint's unused pooler not counted).
                return .init(name: e.name, kind: e.kind.rawValue, architecture: e.architecture, installed: e.isInstalled,
                             parameters: 22_565_376, inputSize: 256, features: 384)
            case .wordVectors:
                return .init(name: e.name, kind: e.kind.rawValue, architecture: e.architecture, installed: e.isInstalled,
                             parameters: nil, inputSize: nil, features: 300)
            case .detection:
                // YOLOv3-tiny (COCO): 8,858,734 parameters, 416x416 input, 80 classes.
                return .init(name: e.name, kind: e.kind.rawValue, architecture: e.architecture, installed: e.isInstalled,
                             parameters: 8_858_734, inputSize: 416, features: nil)
            }
        }
        let architectures = try ImageModels.architectures.map { a -> Report.Architecture in
            guard all else { return .init(name: a, parameters: nil, inputSize: nil, features: nil, cutPoints: nil) }
            let m = try ImageModels.make(a)
            return .init(name: a, parameters: m.parameterCount, inputSize: m.preprocessing.inputSize, features: m.featureSize, cutPoints: m.cutPoints)
        }
        let report = Report(models: models, architectures: architectures)
        if json { return try CLIOutput.printJSON(report) }

        print("name                 kind          params   input  features  weights")
        for m in report.models {
            let params = m.parameters.map { String(format: "%.2fM", Double($0) / 1e6) } ?? "-"
            let input = m.inputSize.map { m.kind == "text" ? "≤\($0) tok" : "\($0)" } ?? "-"
            print("\(m.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(m.kind.padding(toLength: 12, withPad: " ", startingAt: 0)) \(params.leftPad(7))  \(input.leftPad(5))  \((m.features.map(String.init) ?? "-").leftPad(8))  \(m.installed ? "installed" : "missing (make setup)")")
        }
        guard all else { print("\narchitectures for your own weights (--arch): \(ImageModels.architectures.joined(separator: ", "))"); return }
        print("\narchitecture         params   input  features  cut points")
        for a in report.architectures {
            let cuts = a.cutPoints ?? []
            print("\(a.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(String(format: "%.2fM", Double(a.parameters ?? 0) / 1e6).leftPad(7))  \("\(a.inputSize ?? 0)".leftPad(5))  \("\(a.features ?? 0)".leftPad(8))  \(cuts.count) (\(cuts.prefix(3).joined(separator: ", ")), ..., penultimate)")
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
