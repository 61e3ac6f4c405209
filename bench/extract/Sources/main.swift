// Issue 6 acceptance on real data, and the store dump the scikit-learn comparison reads.
//
//   graft-bench-extract acceptance OUTDIR
//
// Fashion-MNIST: 100 training images per class (seed 0), 2,000 stratified images of the official
// test set; EfficientNet-Lite0 penultimate features (via FeatureExtraction, i.e. the feature store)
// and raw pixels (784 values / 255), each with Graft's logistic regression (C by 5-fold CV) and
// linear SVM. Rotten Tomatoes: 500 per class train, 1,000 held-out test, MiniLM pooled features.
// Writes OUTDIR/<task>-{train,test}/ (feature stores) and OUTDIR/results.json (C, accuracies, the
// split indices) so bench/extract/sklearn_heads.py fits scikit-learn on exactly the same rows.
import Foundation
import Graft
import GraftData
import GraftHeads
import GraftTransfer

struct HeadResult: Codable {
    var features: String, head: String, C: Double, trainAccuracy: Double, testAccuracy: Double
    var balancedAccuracy: Double, fitSeconds: Double, iterations: Int
}
struct TaskResult: Codable {
    var task: String, trainCount: Int, testCount: Int, extractSeconds: Double
    var trainIndices: [Int], testIndices: [Int], heads: [HeadResult]
}

func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

func fitBoth(_ name: String, train: FeatureMatrix, trainLabels: [Int], test: FeatureMatrix, testLabels: [Int]) throws -> [HeadResult] {
    var out: [HeadResult] = []
    var o = LogisticRegression.Options(); o.seed = 0
    let lr = try LogisticRegression(o).fit(train, labels: trainLabels)
    let svm = try LinearSVM(.init()).fit(train, labels: trainLabels)
    for (kind, fit) in [("logreg", lr), ("svm", svm)] {
        let tr = try fit.head.evaluate(train, labels: trainLabels)
        let te = try fit.head.evaluate(test, labels: testLabels)
        out.append(HeadResult(features: name, head: kind, C: fit.head.C, trainAccuracy: tr.accuracy, testAccuracy: te.accuracy,
                              balancedAccuracy: te.balancedAccuracy, fitSeconds: fit.summary.seconds, iterations: fit.summary.iterations))
        log(String(format: "%@ %@: C=%g train %.4f test %.4f (%.2f s)", name, kind, fit.head.C, tr.accuracy, te.accuracy, fit.summary.seconds))
    }
    return out
}

func extract(_ extractor: FeatureExtractor, _ data: any Dataset, _ indices: [Int], _ url: URL) throws -> (FeatureMatrix, [Int]) {
    let store = try FeatureExtraction(batchSize: 32, overwrite: true).run(extractor: extractor, dataset: data, indices: indices, to: url)
    let rows = try store.readAll()
    return (try FeatureMatrix(rows: rows.count, columns: store.source.dimension, values: rows.features), rows.labels)
}

func rawPixels(_ data: InMemoryImageDataset, _ indices: [Int]) throws -> FeatureMatrix {
    let d = data.width * data.height * data.channels
    var values = [Float](); values.reserveCapacity(indices.count * d)
    for i in indices { values += data.pixels[(i * d)..<((i + 1) * d)].map { Float($0) / 255 } }
    return try FeatureMatrix(rows: indices.count, columns: d, values: values)
}

func fashion(_ out: URL) throws -> TaskResult {
    let source = try DataSource.resolve("fashion-mnist")
    let split = try ExperimentSplit.make(source, perClass: 100, testCount: 2000, seed: 0)
    guard let test = source.test else { throw TransferError.emptyData("fashion-mnist has no test set") }
    let extractor = try FeatureExtractor(backbone: Backbones.load(.efficientNetLite0), cut: "penultimate")
    let started = Date()
    let (xTrain, yTrain) = try extract(extractor, source.train, split.train, out.appendingPathComponent("fashion-train"))
    let (xTest, yTest) = try extract(extractor, test, split.test, out.appendingPathComponent("fashion-test"))
    let seconds = Date().timeIntervalSince(started)
    log(String(format: "fashion: %d train, %d test, extraction %.1f s", split.train.count, split.test.count, seconds))
    var heads = try fitBoth("efficientnet-lite0 penultimate", train: xTrain, trainLabels: yTrain, test: xTest, testLabels: yTest)
    guard let trainSet = source.train as? InMemoryImageDataset, let testSet = test as? InMemoryImageDataset else {
        throw TransferError.unsupported("fashion-mnist is not in memory")
    }
    heads += try fitBoth("raw pixels", train: rawPixels(trainSet, split.train), trainLabels: split.train.map(trainSet.label(at:)),
                         test: rawPixels(testSet, split.test), testLabels: split.test.map(testSet.label(at:)))
    return TaskResult(task: "fashion-mnist", trainCount: split.train.count, testCount: split.test.count, extractSeconds: seconds,
                      trainIndices: split.train, testIndices: split.test, heads: heads)
}

func rottenTomatoes(_ out: URL) throws -> TaskResult {
    let source = try DataSource.resolve("rotten-tomatoes")
    let split = try ExperimentSplit.make(source, perClass: 500, testCount: 1000, seed: 0)
    let extractor = try FeatureExtractor(backbone: Backbones.load(.miniLM), cut: "pooled")
    let started = Date()
    let (xTrain, yTrain) = try extract(extractor, source.train, split.train, out.appendingPathComponent("rotten-train"))
    let (xTest, yTest) = try extract(extractor, source.train, split.test, out.appendingPathComponent("rotten-test"))
    let seconds = Date().timeIntervalSince(started)
    log(String(format: "rotten-tomatoes: %d train, %d test (of %d), extraction %.1f s", split.train.count, split.test.count,
               source.train.count, seconds))
    let heads = try fitBoth("all-minilm-l6-v2 pooled", train: xTrain, trainLabels: yTrain, test: xTest, testLabels: yTest)
    return TaskResult(task: "rotten-tomatoes", trainCount: split.train.count, testCount: split.test.count, extractSeconds: seconds,
                      trainIndices: split.train, testIndices: split.test, heads: heads)
}

let args = CommandLine.arguments
guard args.count == 3, args[1] == "acceptance" else {
    log("usage: graft-bench-extract acceptance OUTDIR"); exit(2)
}
do {
    let out = URL(fileURLWithPath: args[2])
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let results = [try fashion(out), try rottenTomatoes(out)]
    let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try enc.encode(results).write(to: out.appendingPathComponent("results.json"))
    for r in results { for h in r.heads {
        print(String(format: "row\t%@\t%@\t%@\t%g\t%.4f\t%.4f", r.task, h.features, h.head, h.C, h.trainAccuracy, h.testAccuracy))
    } }
} catch {
    log("error: \(error)"); exit(1)
}
