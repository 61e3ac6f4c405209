// swift-tools-version:6.0
// Two small programs that use Graft only through its public, task-first API.
// Build: `swift build --package-path Examples -c release` (or Examples/build.sh).
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
