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

/// `graft extract`: stream a data set through a backbone, cut at a named layer, into a feature store.
struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "extract", abstract: "Extract features into an on-disk store (resumable).")

    @Option(help: "Backbone: a zoo name, torchvision:NAME, hf:ORG/NAME[@REV], a weights URL or file/model directory with --arch. Default: efficientnet-lite0 (images), all-minilm-l6-v2 (texts).")
    var model: String?
    @Option(help: "Architecture of a weights file given with --model.") var arch: String?
    @Option(help: "Cut point (see `graft inspect --model M`): penultimate (CNN default), a block/stage name, layerN or pooled (text default).")
    var layer: String?
    @Option(help: "Pooling of spatial maps.") var pool: FeaturePooling = .avg
    @Option(help: "How images become an ONNX --model's input: imagenet, efficientnet-lite0, efficientnet-lite1 or a JSON file (docs/ONNX.md).")
    var preprocess: String?
    @Option(help: ModelArguments.precisionHelp) var precision: Precision = .fp32
    @Option(help: "Data set (built-in name, folder or CSV/JSONL).") var data: String
    @Option(help: "Data part.") var split: DataPart = .train
    @Option(help: "Output store directory.") var out: String
    @Option(help: "Batch size.") var batch: Int = 32
    @Option(name: .customLong("shard-size"), help: "Examples per shard.") var shardSize: Int = 4096
    @Option(help: "Only the first N examples.") var limit: Int?
    @Flag(help: "Fail on the first unreadable item.") var strict = false
    @Flag(help: "Replace a store made by a different job.") var overwrite = false
    @Flag(help: CLIOutput.jsonHelp) var json = false
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        let source = try DataSource.resolve(data)
        let dataset: any Dataset = split == .test ? source.testSet : source.train
        let spec = try ModelArguments.backboneSpec(model, arch: arch, preprocess: preprocess) ?? .defaultPretrained(for: dataset.kind)
        guard spec.input == dataset.kind else {
            throw ValidationError("\(spec.model) reads \(spec.input.rawValue)s but \(data) holds \(dataset.kind.rawValue)s")
        }
        try precision.requireSupport()   // before loading weights
        let extractor = try FeatureExtractor(backbone: Backbones.load(spec), cut: layer, pool: pool, precision: precision)
        let indices = limit.map { Array(0..<min($0, dataset.count)) }
        let store = try FeatureStages.extract(extractor, dataset: dataset, indices: indices, to: URL(fileURLWithPath: out),
                                              batchSize: batch, shardSize: shardSize, strict: strict, overwrite: overwrite,
                                              progress: TerminalProgressBar(quiet: quiet).handler)
        let failures = store.manifest.failures
        if json {
            try CLIOutput.printJSON(ExtractSummary(store: out, examples: store.count, dimension: store.source.dimension, source: store.source,
                                         backbone: spec, precision: store.source.precision, shards: store.manifest.shards.count,
                                         complete: store.manifest.complete, failures: failures))
        } else {
            print("\(store.count) examples x \(store.source.dimension) features (\(store.source)) in \(store.manifest.shards.count) shards at \(out)")
        }
        if !failures.isEmpty {
            CLIOutput.log("\(failures.count) unreadable items skipped:")
            for f in failures.prefix(20) { CLIOutput.log("  \(f)") }
            throw ExitCode(1)
        }
    }
}

struct ExtractSummary: Encodable {
    var store: String, examples: Int, dimension: Int, source: FeatureSource, backbone: BackboneSpec, precision: Precision, shards: Int, complete: Bool
    var failures: [String]
}
