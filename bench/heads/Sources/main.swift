import Foundation
import GraftHeads

// Usage: graft-bench-heads DATADIR NAME logreg|svm C [standardize 0|1] [tolerance]
// Fits on DATADIR/NAME_{Xtrain,ytrain}.npy, scores on NAME_{Xtest,ytest}.npy, prints one JSON line.
let arguments = CommandLine.arguments
// `graft-bench-heads tasks DATADIR HEAD`: bench/tasks (Tasks.swift).
if arguments.count == 4, arguments[1] == "tasks" {
    do { try TaskBench.run(directory: arguments[2], head: arguments[3]) } catch {
        FileHandle.standardError.write("graft-bench-heads: \(error)\n".data(using: .utf8)!)
        exit(1)
    }
    exit(0)
}
guard arguments.count >= 5, let C = Double(arguments[4]) else {
    FileHandle.standardError.write("usage: graft-bench-heads DATADIR NAME logreg|svm C [standardize 0|1] [tolerance]\n".data(using: .utf8)!)
    exit(2)
}
let (directory, name, kind) = (arguments[1], arguments[2], arguments[3])
let standardize = arguments.count > 5 && arguments[5] == "1"
let tolerance = arguments.count > 6 ? Double(arguments[6]) ?? 1e-4 : 1e-4

do {
    let train = try Npy.floats("\(directory)/\(name)_Xtrain.npy")
    let trainLabels = try Npy.ints("\(directory)/\(name)_ytrain.npy")
    let test = try Npy.floats("\(directory)/\(name)_Xtest.npy")
    let testLabels = try Npy.ints("\(directory)/\(name)_ytest.npy")
    let x = try FeatureMatrix(rows: train.rows, columns: train.columns, values: train.values)
    let xTest = try FeatureMatrix(rows: test.rows, columns: test.columns, values: test.values)

    let fit: HeadFit
    if kind == "svm" {
        var options = LinearSVM.Options(C: C)
        options.standardize = standardize
        options.tolerance = tolerance
        fit = try LinearSVM(options).fit(x, labels: trainLabels)
    } else {
        var options = LogisticRegression.Options(C: C)
        options.standardize = standardize
        options.tolerance = tolerance
        fit = try LogisticRegression(options).fit(x, labels: trainLabels)
    }
    func accuracy(_ predicted: [Int], _ truth: [Int]) -> Double {
        Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(truth.count)
    }
    let trainAccuracy = accuracy(try fit.head.predict(x), trainLabels)
    let testAccuracy = accuracy(try fit.head.predict(xTest), testLabels)
    print("""
    {"impl": "graft", "data": "\(name)", "head": "\(kind)", "fit_s": \(fit.summary.seconds), \
    "train_acc": \(trainAccuracy), "test_acc": \(testAccuracy), "objective": \(fit.summary.objective), \
    "iterations": \(fit.summary.iterations), "stop": "\(fit.summary.stop.rawValue)"}
    """)
} catch {
    FileHandle.standardError.write("graft-bench-heads: \(error)\n".data(using: .utf8)!)
    exit(1)
}
