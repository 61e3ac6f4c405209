// Fine-tunes the last block of EfficientNet-Lite0 on a folder of class folders,
// or, with no argument, on thirty 8x8 digits (0, 1, 7) held in memory.
// Usage: ImageClassifierExample [photos/ [bundle-out]]
import Foundation
import Graft

let arguments = CommandLine.arguments.dropFirst()
let data: TrainingData
if let folder = arguments.first {
    data = .folder(URL(fileURLWithPath: folder))
} else {                                    // 8x8 digits 0, 1 and 7, ten of each
    let digits = try BuiltinDatasets.digits()
    let picked = (0..<digits.count).filter { ["0", "1", "7"].contains(digits.classNames[digits.label(at: $0)]) }.prefix(30)
    data = .images(picked.map(digits.image(at:)), labels: picked.map { digits.classNames[digits.label(at: $0)] })
}
let parameters = Parameters(strategy: .fineTune(unfreeze: 1), augmentation: [.horizontalFlip], maxEpochs: 2, batchSize: 8)
let job = ImageClassifier.train(data: data, parameters: parameters)
for await event in job.progress {
    switch event {
    case let .progress(p) where p.phase == .training: print(p)      // epoch, step, loss, accuracy, ETA
    case let .progress(p): if p.step == 0 { print(p.phase) }
    case let .completed(outcome): print("completed: \(outcome)")
    }
}
let classifier = try await job.result
print("validation:", classifier.validationMetrics.map(String.init(describing:)) ?? "none")
print("classes:", classifier.classNames)
if let out = arguments.dropFirst().first {
    try classifier.write(to: URL(fileURLWithPath: out))
    print("bundle written to \(out)")
}
