// swift-tools-version:6.0
// Two small programs that use Graft only through its public, task-first API.
// Build: `make examples` (shares the main build folder, so only these two programs compile;
// `make test` runs it too), or Examples/build.sh for a folder of its own.
import PackageDescription

let package = Package(
    name: "GraftExamples",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Graft", path: "..")],
    targets: [
        .executableTarget(name: "ImageClassifierExample", dependencies: [.product(name: "Graft", package: "Graft")]),
        .executableTarget(name: "TextClassifierExample", dependencies: [.product(name: "Graft", package: "Graft")]),
    ]
)
