import ArgumentParser
import Foundation
import GraftData
import GraftModels
import GraftTransfer

/// `graft quantize`: post-training static quantization of an image network on the user's data (docs/PRECISION.md).
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Calibrate an image network, a detector or a trained bundle on a few hundred of your items and write an int8 model (run it with --precision int8).")

    @Option(help: "Image backbone (a zoo name, torchvision:NAME, a weights URL, a weights file with --arch, or an ONNX graph with --preprocess) or a zoo detector (yolov3-tiny); default efficientnet-lite0.")
    var model: String?
    @Option(help: "A fine-tuned or from-scratch image bundle (any task, detection too) instead of --model; --out is then the quantized bundle's folder.")
    var bundle: String?
    @Option(help: ModelArguments.archHelp) var arch: String?
    @Option(help: ModelArguments.preprocessHelp) var preprocess: String?
    @Option(help: "Calibration data (built-in name, folder or CSV/JSONL; for a detector also a detection set: faces, a YOLO folder, COCO JSON).") var data: String
    @Option(help: "Data part.") var split: DataPart = .train
    @Option(help: "Calibration items, spread evenly over the data.") var items: Int = 300
    @Option(help: "Output file (.safetensors): the network with its int8 calibration; for an ONNX graph a .onnx file (the graph with the calibration in its metadata); with --bundle, a bundle folder.") var out: String
    @Option(help: "Batch size.") var batch: Int = 32
    @Option(help: "How the weights of the calibrated convolutions and linear layers are stored: s8 (a code per weight, a scale per output channel: a quarter of the bytes; in an ONNX graph, its convolutions' weights, turned back into fp32 by Cast and Mul nodes) or fp32 (as they were: the file in fp32 is the original network).")
    var weights: Int8WeightStorage = .s8
    @Flag(help: "Fail on the first unreadable item.") var strict = false
    @Flag(help: CLIOutput.jsonHelp) var json = false
    @Flag(help: "No progress output.") var quiet = false

    /// An ONNX graph's quantized copy is an ONNX file (`BackboneSpec.named` says which `--model` is one).
    var isOnnx: Bool { model.flatMap { try? BackboneSpec.named($0, architecture: arch) }?.architecture == "onnx" }

    func validate() throws {
        if bundle != nil {
            guard model == nil, arch == nil, preprocess == nil else { throw ValidationError("--bundle and --model/--arch/--preprocess name two networks: give one") }
            guard !out.hasSuffix(".safetensors") else { throw ValidationError("with --bundle, --out is a bundle folder, not a .safetensors file") }
        } else if isOnnx {
            guard out.hasSuffix(".onnx") else { throw ValidationError("--out must end in .onnx: an ONNX graph's quantized copy is an ONNX file") }
        } else {
            guard out.hasSuffix(".safetensors") else { throw ValidationError("--out must end in .safetensors") }
        }
        guard items >= 1 else { throw ValidationError("--items must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        let spec = try bundle == nil ? ModelArguments.backboneSpec(model ?? "efficientnet-lite0", arch: arch, preprocess: preprocess) : nil
        // A detector calibrates on the images of a detection set as well as on any image data.
        let detector = spec.map(YoloBackbone.isDetector) ?? true
        let source = try detector && DataSource.isDetectionData(data) ? DataSource.detection(data) : DataSource.resolve(data)
        let dataset: any Dataset = split == .test ? source.testSet : source.train
        let url = URL(fileURLWithPath: out)
        if bundle == nil { TemporaryFiles.guardOutput(url) }   // a bundle folder is replaced by AtomicDirectory
        let quantization = PostTrainingQuantization(items: items, batchSize: batch, strict: strict, weights: weights,
                                                    progress: TerminalProgressBar(quiet: quiet).handler)
        let summary = try spec.map { try quantization.run(spec: $0, dataset: dataset, to: url) }
            ?? quantization.run(bundle: URL(fileURLWithPath: bundle!), dataset: dataset, to: url)
        if json {
            try CLIOutput.printJSON(summary)
        } else {
            print("wrote \(out): \(summary.architecture) with \(summary.calibratedConvolutions) of \(summary.convolutions) convolutions "
                  + "calibrated for int8 on \(summary.items) items (\(summary.calibration), \(summary.weights) weights, "
                  + "\(String(format: "%.1f MB", Double(summary.bytes) / 1e6))); run it with `\(summary.usage)`")
        }
        if !summary.failures.isEmpty {
            CLIOutput.log("\(summary.failures.count) unreadable items skipped:")
            for f in summary.failures.prefix(20) { CLIOutput.log("  \(f)") }
            throw ExitCode(1)
        }
    }
}

extension Int8WeightStorage: ExpressibleByArgument {}
