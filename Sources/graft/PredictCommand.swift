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
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Top-k labels for images (or texts, with a text bundle).",
        discussion: "An unreadable input is reported on stderr and the others carry on; the exit status is then 1.")

    @Option(help: ModelArguments.imageHelp)
    var model: String = "efficientnet-lite0"
    @Option(help: ModelArguments.archHelp)
    var arch: String?
    @Option(help: "A trained bundle (from `graft fit`, `graft finetune`) instead of an ImageNet model.")
    var bundle: String?
    @Option(help: "How many labels per input.")
    var top: Int = 5
    @Option(help: "What the network computes in: fp32, bf16, or int8 with a quantized model (graft quantize; docs/PRECISION.md). Default: fp32, or with --bundle the precision its head was fitted with.")
    var precision: Precision?
    @Flag(help: CLIOutput.jsonHelp)
    var json = false
    @Flag(help: "Stop at the first unreadable input instead of reporting it and carrying on.")
    var strict = false
    @Argument(help: "Image files (or texts, with a text bundle).")
    var inputs: [String]

    /// The `--json` document.
    struct Report: Encodable {
        struct Prediction: Encodable {
            let input: String
            var labels: [LabelScore]?
            /// Regression bundles: the predicted value of each target.
            var values: [String: Float]?
            var error: String?
        }
        /// The bundle directory, or the pretrained model.
        let model: String
        /// What the network computed in.
        let precision: Precision
        let results: [Prediction]
        let failed: Int
    }

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard !inputs.isEmpty else { throw ValidationError("give at least one input") }
        guard bundle == nil || arch == nil else { throw ValidationError("--arch goes with --model FILE, not with --bundle") }
    }

    func run() throws {
        var results: [Report.Prediction] = []
        var failures = ItemFailures(total: inputs.count)
        /// Runs `predict` for each input, or records why it could not.
        func each(_ predict: (String) throws -> [LabelScore]) throws {
            for input in inputs {
                do {
                    results.append(.init(input: input, labels: try predict(input)))
                } catch {
                    if strict { throw error }
                    failures.record(input, error)
                    results.append(.init(input: input, error: "\(error)"))
                }
            }
        }
        var used = precision ?? .fp32
        if let bundle {
            let classifier = try TrainedClassifier(bundle: URL(fileURLWithPath: bundle), precision: precision)
            used = classifier.precision
            if classifier.manifest.task == .regression {
                try predictValues(classifier, into: &results, failures: &failures)
            } else if classifier.input == .text {
                let preds = try classifier.predict(classifier.batch(texts: inputs), top: top)
                results = zip(inputs, preds).map { .init(input: $0, labels: $1) }
            } else {
                try each { path in
                    let image = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: path))
                    return try classifier.predict(classifier.batch(images: [image]), top: top)[0]
                }
            }
        } else {
            try used.requireSupport()
            let backbone = try ModelArguments.imageBackbone(model, arch: arch)
            if used == .int8 { try Int8Quantization.requireCalibration(backbone, name: model, architecture: arch ?? backbone.architecture) }
            let labels = try ModelZoo.imagenetLabels()
            let prep = backbone.preprocessing
            try each { path in
                let image = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: path))
                let x = try Tensor(shape: [1, prep.inputSize, prep.inputSize, 3], values: prep.apply(image))
                let probs = try withPrecision(used) { try withNoGrad { try backbone.forward(x, upTo: nil, training: false).softmax().values } }
                let best = probs.enumerated().sorted { $0.element > $1.element }.prefix(top)
                return best.map { LabelScore(label: $0.offset < labels.count ? labels[$0.offset] : "class \($0.offset)", probability: $0.element) }
            }
        }
        if json {
            try CLIOutput.printJSON(Report(model: bundle ?? model, precision: used, results: results, failed: failures.count))
        } else {
            for r in results {
                guard let labels = r.labels else { continue }  // its error is on stderr
                print(r.input)
                for l in labels { print(String(format: "  %6.2f%%  %@", l.probability * 100, l.label)) }
            }
            for r in results {
                guard let values = r.values else { continue }
                print(r.input)
                for name in values.keys.sorted() { print("  \(name) = \(values[name]!)") }
            }
        }
        try failures.finish()
    }
}

extension PredictCommand {
    /// Regression bundles: one number per target for each input (texts in one batch, images one by one).
    func predictValues(_ model: TrainedModel, into results: inout [Report.Prediction], failures: inout ItemFailures) throws {
        func named(_ row: [Float]) -> [String: Float] { Dictionary(uniqueKeysWithValues: zip(model.classNames, row)) }
        if model.input == .text {
            results = zip(inputs, try model.values(model.batch(texts: inputs))).map { .init(input: $0, values: named($1)) }
            return
        }
        for input in inputs {
            do {
                let image = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: input))
                results.append(.init(input: input, values: named(try model.values(model.batch(images: [image]))[0])))
            } catch {
                if strict { throw error }
                failures.record(input, error)
                results.append(.init(input: input, error: "\(error)"))
            }
        }
    }
}
