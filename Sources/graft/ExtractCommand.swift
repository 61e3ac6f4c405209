import ArgumentParser
import Foundation
import Graft

/// `graft extract`: stream a data set through a network into a feature store.
struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "extract", abstract: "Extract features into an on-disk store (resumable).")

    @Option(help: "Pretrained model: a zoo name, torchvision:NAME, hf:ORG/NAME[@REV], or a weights URL with --arch.") var model: String?
    @Option(help: "Architecture of the weights a URL --model names (see `graft models`).") var arch: String?
    @Option(help: "Cut point: penultimate (default), a block/stage name, or layerN/pooled for text.") var layer: String?
    @Option(help: "Pooling of spatial maps: avg, max, flatten.") var pool: FeaturePooling = .avg
    @Option(help: "Data set (built-in name, folder or CSV/JSONL).") var data: String
    @Option(help: "Use the official test split of a built-in data set.") var split: String = "train"
    @Option(help: "Output store directory.") var out: String
    @Option(help: "Batch size.") var batch: Int = 32
    @Option(name: .customLong("shard-size"), help: "Examples per shard.") var shardSize: Int = 4096
    @Option(help: "Only the first N examples.") var limit: Int?
    @Flag(help: "Fail on the first unreadable item.") var strict = false
    @Flag(help: "Replace a store made by a different job.") var overwrite = false
    @Flag(help: "No progress bar.") var quiet = false

    func run() throws {
        let source = try DataSource.resolve(data)
        let dataset: any Dataset = split == "test" ? (source.test ?? source.train) : source.train
        let extractor: any FeatureExtractor = dataset.kind == .image
            ? try ImageFeatureExtractor(backbone: ImageModels.pretrained(model ?? "efficientnet-lite0", architecture: arch), layer: layer ?? "penultimate", pool: pool)
            : try TextFeatureExtractor(embedder: SentenceEmbedder.pretrained(model ?? "all-minilm-l6-v2"), layer: layer ?? "pooled")
        let indices = limit.map { Array(0..<min($0, dataset.count)) }
        let job = FeatureExtraction(batchSize: batch, shardSize: shardSize, strict: strict, overwrite: overwrite,
                                    progress: TerminalProgressBar(enabled: !quiet).handler)
        let store = try job.run(extractor: extractor, dataset: dataset, indices: indices, to: URL(fileURLWithPath: out))
        print("\(store.count) examples x \(store.source.dimension) features (\(store.source)) in \(store.manifest.shards.count) shards at \(out)")
        if !store.manifest.failures.isEmpty {
            print("\(store.manifest.failures.count) unreadable items skipped:")
            for f in store.manifest.failures.prefix(20) { print("  \(f)") }
        }
    }
}

extension FeaturePooling: ExpressibleByArgument {}
