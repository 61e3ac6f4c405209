// swift-tools-version:6.0
// Graft's benchmarks: one executable per bench/NAME/Sources, each run by bench/NAME/run.sh beside its
// peers (PyTorch, ONNX Runtime, scikit-learn, ...). A package of its own, so the root package holds only
// the products and their tests; it depends on Graft by path and uses only its public products.
// Build: `make bench` (shares the root's .build folder and flags, so only the benchmarks compile).
import PackageDescription

/// `graft-bench-NAME`, an executable in bench/NAME/Sources run by bench/NAME/run.sh.
func bench(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: "graft-bench-\(name)", dependencies: dependencies, path: "\(name)/Sources")
}

/// A product of the root package.
func graft(_ product: String) -> Target.Dependency { .product(name: product, package: "Graft") }

let package = Package(
    name: "GraftBench",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Graft", path: "..")],
    targets: [
        // heads fit time against scikit-learn (bench/heads/run.sh).
        bench("heads", [graft("GraftHeads")]),
        // conv / depthwise / matmul GFLOP/s against PyTorch, and the machine's FMA peak (bench/kernels/run.sh).
        bench("kernels", [graft("GraftKernels"), "CGraftBenchPeak"]),
        // The peak loop must be optimised whatever the configuration; unsafe flags are fine in a root
        // package nobody depends on.
        .target(name: "CGraftBenchPeak", path: "kernels/CPeak", cSettings: [.unsafeFlags(["-O3"])]),
        // decode + resize throughput against Pillow (bench/data/run.sh).
        bench("data", [graft("GraftData")]),
        // weights loading against torch.load / safetensors (bench/weights/run.sh).
        bench("weights", [graft("GraftWeights")]),
        // WordPiece tokenizer against Hugging Face tokenizers (bench/text/run.sh).
        bench("text", [graft("GraftText")]),
        // vision forward img/s against PyTorch and ONNX Runtime (bench/vision/run.sh).
        bench("vision", [graft("GraftModels"), graft("GraftNN"), graft("GraftTensor"), graft("GraftData"), graft("GraftKernels")]),
        // ONNX import img/s: native models vs their imported PyTorch export vs ONNX Runtime (bench/onnx/run.sh).
        bench("onnx", [graft("GraftModels"), graft("GraftNN"), graft("GraftTensor")]),
        // issue 6 acceptance (Fashion-MNIST, Rotten Tomatoes) and its stores (bench/extract/run.sh).
        bench("extract", [graft("Graft"), graft("GraftData"), graft("GraftHeads"), graft("GraftTransfer")]),
        // MiniLM sentences/s against sentence-transformers and ONNX Runtime (bench/encoder/run.sh).
        bench("encoder", [graft("GraftTransfer"), graft("GraftModels"), graft("GraftTensor"), graft("GraftKernels")]),
        // serving throughput and latency against a PyTorch http.server (bench/serve/run.sh).
        bench("serve", [graft("GraftTransfer"), graft("GraftModels"), graft("GraftData")]),
        // fine-tuning step time and peak memory against PyTorch (bench/finetune/run.sh).
        bench("finetune", [graft("GraftTransfer"), graft("GraftModels"), graft("GraftData"), graft("GraftTensor"), graft("GraftKernels")]),
        // YOLOv3-tiny img/s against OpenCV DNN and ONNX Runtime, fine-tune steps/s against PyTorch (bench/detect/run.sh).
        bench("detect", [graft("GraftModels"), graft("GraftData"), graft("GraftTensor"), graft("GraftTransfer"), graft("GraftHeads")]),
        // allreduce bandwidth, data-parallel step and sharded extraction over MPI ranks (bench/mpi/run.sh).
        bench("mpi", [graft("GraftTransfer"), graft("GraftDistributed"), graft("GraftKernels"), graft("GraftData"),
                      graft("GraftModels"), graft("GraftTensor")]),
    ]
)
