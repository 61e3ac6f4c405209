// swift-tools-version:6.0
// Graft: deep transfer learning in Swift. Targets are layers; each depends only
// on the layers above it (see docs/ARCHITECTURE.md).
import PackageDescription

// Plain -O (SwiftPM's release default): -Ounchecked was measured to miscompile the
// pickle VM's stack handling, and a toolkit that parses untrusted files keeps its
// bounds checks. Hot loops live in oneDNN and CGraftKernels anyway.
let optimize: [SwiftSetting] = []

let package = Package(
    name: "Graft",
    platforms: [.macOS(.v15)],  // Synchronization.Mutex
    // Every Swift layer of docs/ARCHITECTURE.md is a library product: `Graft` is the task-first API most
    // programs need; the layers under it stand on their own (a tokenizer, a weights reader, linear heads,
    // the tensor engine) and are what the API's types are made of. The C module maps are not products.
    // The benchmarks are a package of their own (bench/Package.swift).
    products: [
        .library(name: "Graft", targets: ["Graft"]),
        .library(name: "GraftServe", targets: ["GraftServe"]),
        .library(name: "GraftTransfer", targets: ["GraftTransfer"]),
        .library(name: "GraftModels", targets: ["GraftModels"]),
        .library(name: "GraftHeads", targets: ["GraftHeads"]),
        .library(name: "GraftText", targets: ["GraftText"]),
        .library(name: "GraftData", targets: ["GraftData"]),
        .library(name: "GraftHub", targets: ["GraftHub"]),
        .library(name: "GraftWeights", targets: ["GraftWeights"]),
        .library(name: "GraftDistributed", targets: ["GraftDistributed"]),
        .library(name: "GraftNN", targets: ["GraftNN"]),
        .library(name: "GraftTensor", targets: ["GraftTensor"]),
        .library(name: "GraftKernels", targets: ["GraftKernels"]),
        .library(name: "GraftCore", targets: ["GraftCore"]),
        .executable(name: "graft", targets: ["graft"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        // Already in the graph through Hummingbird; declared because GraftServe imports them itself
        // (connection deadlines are a NIO handler; the bounded graceful shutdown uses service-lifecycle).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        // `swift package generate-documentation --target Graft` (make docs): the standard DocC build.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        // The runtime of the committed ONNX code generated from onnx.proto (scripts/generate-onnx-proto.sh).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // core: the seeded generator every layer shares; no Foundation, no C libraries.
        .target(name: "GraftCore", swiftSettings: optimize),
        // kernels: C libraries behind module maps, and the only code that talks to them.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CBZ2", path: "Sources/CBZ2"),
        // Open MPI (flags from `pkg-config ompi-c`), with accessors for the handles Swift cannot import.
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        // Vectorised, OpenMP-parallel glue loops (runtime CPU dispatch) on libgomp, oneDNN's runtime.
        // No unsafe flags (SwiftPM refuses them in a versioned dependency): release builds compile C
        // at -O2, measured as fast as the -O3 these files had (bench/RESULTS.md, "C kernels at -O2").
        // The x86-64 paths compile only on x86-64 and libgomp links only on Linux; elsewhere the portable
        // C runs (on one thread without libgomp); scripts/check-portable.sh compiles it for arm64.
        .target(name: "CGraftKernels", linkerSettings: [.linkedLibrary("gomp", .when(platforms: [.linux]))]),
        .target(name: "GraftKernels", dependencies: ["CDNNL", "CGraftKernels"], swiftSettings: optimize),
        // tensor: storage, ops, autodiff tape.
        .target(name: "GraftTensor", dependencies: ["GraftCore", "GraftKernels"], swiftSettings: optimize),
        // nn: modules, layers, optimizers, losses, schedules.
        .target(name: "GraftNN", dependencies: ["GraftTensor", "GraftKernels"], swiftSettings: optimize),
        // distributed: ranks and collectives over MPI; a world of one without a launcher.
        .target(name: "GraftDistributed", dependencies: ["CMPI"], swiftSettings: optimize),
        // weights: safetensors, PyTorch pickle, ONNX initializers, .npy, word vectors.
        // Parses untrusted files: keeps Swift's bounds and overflow checks (no -Ounchecked), so an
        // undiscovered bug traps instead of corrupting memory.
        .target(name: "GraftWeights", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // hub: model references (hf:, torchvision:, https://), verified resumable downloads, and the
        // Hugging Face / torch hub caches. Foundation(Networking) only, like the weights layer.
        .target(name: "GraftHub", dependencies: []),
        // models: architectures with preprocessing configs and cut points.
        .target(name: "GraftModels", dependencies: ["GraftNN", "GraftTensor", "GraftKernels", "GraftWeights", "GraftData", "GraftText", "GraftHub"], swiftSettings: optimize),
        // data: image decoding, resizing, datasets, loaders.
        .target(name: "GraftData", dependencies: ["GraftCore", "CTurboJPEG", "CPNG", "CZlib", "CBZ2"], swiftSettings: optimize),
        // text: WordPiece tokenizer, word-vector tables.
        .target(name: "GraftText", dependencies: ["GraftWeights", "GraftKernels"], swiftSettings: optimize),
        // heads: linear models on features, metrics (products and dots on the kernels layer).
        .target(name: "GraftHeads", dependencies: ["GraftCore", "GraftKernels"], swiftSettings: optimize),
        // transfer: strategies, feature store, training loop, reports, bundles.
        .target(name: "GraftTransfer",
                dependencies: ["GraftModels", "GraftNN", "GraftTensor", "GraftWeights", "GraftData", "GraftHeads", "GraftDistributed", "CZlib"],
                swiftSettings: optimize),
        // The public, task-first API.
        .target(name: "Graft", dependencies: [
            "GraftTransfer", "GraftModels", "GraftNN", "GraftTensor", "GraftWeights", "GraftData", "GraftText",
            "GraftHeads",
        ], swiftSettings: optimize),
        // serve: a bundle behind an HTTP API (Hummingbird), kept out of the library targets.
        .target(name: "GraftServe", dependencies: [
            "GraftTransfer", "GraftData", "GraftModels", "GraftTensor", .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ], swiftSettings: optimize),
        .executableTarget(name: "graft", dependencies: [
            "Graft", "GraftData", "GraftHeads", "GraftKernels", "GraftModels", "GraftNN", "GraftTensor", "GraftText", "GraftTransfer", "GraftWeights",
            "GraftHub", "GraftServe", "GraftDistributed",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: optimize),
        .testTarget(name: "GraftCoreTests", dependencies: ["GraftCore"]),
        .testTarget(name: "GraftKernelsTests", dependencies: ["GraftKernels"]),
        .testTarget(name: "GraftTensorTests", dependencies: ["GraftTensor", "GraftKernels"]),
        .testTarget(name: "GraftNNTests", dependencies: ["GraftNN", "GraftTensor"]),
        .testTarget(name: "GraftWeightsTests", dependencies: ["GraftWeights"]),
        // Downloads against a loopback HTTP server the tests start; `graft` as a process (built by --build-tests).
        .testTarget(name: "GraftHubTests", dependencies: ["GraftHub", "GraftModels", "GraftWeights"]),
        .testTarget(name: "GraftModelsTests", dependencies: ["GraftModels", "GraftData", "GraftNN", "GraftTensor", "GraftKernels", "GraftWeights"]),
        // Darknet cfg/weights, YOLO network, decoding, NMS, letterbox, mAP, loss, `graft detect` as a process (issue 16).
        .testTarget(name: "GraftDetectionTests", dependencies: [
            "GraftModels", "GraftData", "GraftWeights", "GraftHeads", "GraftTransfer", "GraftNN", "GraftTensor", "GraftKernels",
        ]),
        .testTarget(name: "GraftDataTests", dependencies: ["GraftData", "CPNG"]),
        .testTarget(name: "GraftTextTests", dependencies: ["GraftText", "GraftWeights"]),
        .testTarget(name: "GraftHeadsTests", dependencies: ["GraftHeads", "GraftCore"]),
        .testTarget(name: "GraftTransferTests", dependencies: [
            "GraftTransfer", "GraftData", "GraftHeads", "GraftModels", "GraftNN", "GraftTensor", "GraftWeights",
        ]),
        // The task-first API on its own (not only through the CLI).
        .testTarget(name: "GraftAPITests", dependencies: ["Graft"]),
        // Every `graft` subcommand run as a process (the built `.build/<config>/graft`, which `swift test`
        // builds with the other products); the library only makes fixture weights.
        .testTarget(name: "GraftCLITests", dependencies: ["GraftModels", "GraftWeights", "GraftNN", "GraftTensor", "GraftData"]),
        // Multi-rank tests run this program under mpirun (2 ranks on loopback TCP).
        .testTarget(name: "GraftDistributedTests", dependencies: ["GraftDistributed", "graft-mpi-ranks", "GraftData", "GraftNN", "GraftTensor", "GraftTransfer", "GraftHeads", "GraftCore", "GraftWeights"],
                    exclude: ["RankProgram"]),
        .executableTarget(name: "graft-mpi-ranks", dependencies: ["GraftDistributed", "GraftTransfer", "GraftData", "GraftNN", "GraftTensor", "GraftHeads", "GraftCore"],
                          path: "Tests/GraftDistributedTests/RankProgram", swiftSettings: optimize),
        .testTarget(name: "GraftServeTests", dependencies: [
            "GraftServe", "GraftTransfer", "GraftModels", "GraftData", "GraftHeads", "GraftTensor",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Process level: runs the built `graft` (kills, signals, fault injection via bench/reliability/faults.sh).
        .testTarget(name: "GraftReliabilityTests", dependencies: []),
    ]
)
