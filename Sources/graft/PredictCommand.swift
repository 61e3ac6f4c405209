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

/// `graft predict`: ImageNet top-k from a pretrained model, or a bundle's labels.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Top-k labels for images (or texts, with a text bundle).")

    @Option(help: "Pretrained model: a zoo name, or a weights file with --arch.")
    var model: String = "efficientnet-lite0"
    @Option(help: "Architecture of a weights file given with --model (see `graft models`).")
    var arch: String?
    @Option(help: "A trained bundle (from `graft fit`, `graft finetune`) instead of an ImageNet model.")
    var bundle: String?
    @Option(help: "How many labels per input.")
    var top: Int = 5
    @Flag(help: "JSON output.")
    var json = false
    @Flag(help: "Stop at the first unreadable input instead of reporting it and carrying on.")
    var strict = false
    @Argument(help: "Image files (or texts, with a text bundle).")
    var inputs: [String]

    func run() throws {
        var results: [[String: AnyCodable]] = []
        var failed = 0
        if let bundle {
            let classifier = try TrainedClassifier(bundle: URL(fileURLWithPath: bundle))
            if classifier.input == .text {
                let preds = try classifier.predict(classifier.batch(texts: inputs), top: top)
                for (text, p) in zip(inputs, preds) { results.append(["input": .string(text), "labels": .labels(p)]) }
            } else {
                for path in inputs {
                    do {
                        let image = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: path))
                        let p = try classifier.predict(classifier.batch(images: [image]), top: top)[0]
                        results.append(["input": .string(path), "labels": .labels(p)])
                    } catch {
                        if strict { throw error }
                        failed += 1
                        results.append(["input": .string(path), "error": .string("\(error)")])
                    }
                }
            }
        } else {
            let backbone: any ImageBackbone = arch != nil || FileManager.default.fileExists(atPath: model)
                ? try ImageModels.pretrained(model, weights: URL(fileURLWithPath: model), architecture: arch)
                : try ImageModels.pretrained(model)
            let labels = try ModelZoo.imagenetLabels()
            let prep = backbone.preprocessing
            for path in inputs {
                do {
                    let image = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: path))
                    let x = try Tensor(shape: [1, prep.inputSize, prep.inputSize, 3], values: prep.apply(image))
                    let probs = try withNoGrad { try backbone.forward(x, upTo: nil, training: false).softmax().values }
                    let best = probs.enumerated().sorted { $0.element > $1.element }.prefix(top)
                    let scored = best.map { LabelScore(label: $0.offset < labels.count ? labels[$0.offset] : "class \($0.offset)", probability: $0.element) }
                    results.append(["input": .string(path), "labels": .labels(scored)])
                } catch {
                    if strict { throw error }
                    failed += 1
                    results.append(["input": .string(path), "error": .string("\(error)")])
                }
            }
        }
        if json {
            let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(results), as: UTF8.self))
        } else {
            for r in results {
                if case let .string(input)? = r["input"] { print(input) }
                if case let .string(e)? = r["error"] { print("  error: \(e)") }
                if case let .labels(ls)? = r["labels"] {
                    for l in ls { print(String(format: "  %6.2f%%  %@", l.probability * 100, l.label)) }
                }
            }
        }
        if failed > 0 { FileHandle.standardError.write(Data("\(failed) of \(inputs.count) inputs could not be read\n".utf8)) }
    }
}

/// The few value kinds the CLI prints as JSON.
enum AnyCodable: Encodable {
    case string(String)
    case labels([LabelScore])
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .string(s): try c.encode(s)
        case let .labels(l): try c.encode(l)
        }
    }
}
