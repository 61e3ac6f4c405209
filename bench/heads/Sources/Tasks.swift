import Foundation
import GraftHeads

/// `graft-bench-heads tasks DATADIR HEAD`: the task heads of bench/tasks on DATADIR/tasks_*.npy, one JSON
/// line with the same fields as bench/tasks/sklearn_fit.py (what is timed matches its side).
enum TaskBench {
    static let alphas = [0.01, 0.1, 1, 10, 100, 1000, 10000]

    static func run(directory: String, head: String) throws {
        func matrix(_ name: String) throws -> FeatureMatrix {
            let m = try Npy.floats("\(directory)/tasks_\(name).npy")
            return try FeatureMatrix(rows: m.rows, columns: m.columns, values: m.values)
        }
        let x = try matrix("Xtrain"), xt = try matrix("Xtest")
        var metric: [String: Any] = [:]
        let start = Date()
        switch head {
        case "prototype", "knn":
            let y = try Npy.ints("\(directory)/tasks_ytrain.npy"), yt = try Npy.ints("\(directory)/tasks_ytest.npy")
            let predicted = head == "prototype" ? try PrototypeClassifier().fit(x, labels: y).head.predict(xt)
                                                : try NearestNeighborsHead.fit(x, labels: y, k: 5).head.predict(xt)
            metric["test_accuracy"] = Double(zip(predicted, yt).filter { $0 == $1 }.count) / Double(yt.count)
        case "ridge", "ridgecv":
            let t = try matrix("Ttrain"), tt = try matrix("Ttest")
            var options = RidgeRegression.Options(alpha: head == "ridge" ? 10 : nil)
            options.alphaGrid = alphas
            let fit = try RidgeRegression(options).fit(x, targets: t)
            metric["test_r2"] = try fit.head.evaluate(xt, targets: tt).r2
            metric["alpha"] = fit.head.alpha
        case "ovr":
            let l = try matrix("Ltrain"), lt = try matrix("Ltest")
            func sets(_ m: FeatureMatrix) -> [[Int]] { (0..<m.rows).map { r in (0..<m.columns).filter { m[r, $0] > 0 } } }
            let fitted = try OneVsRestLogistic(.init(C: 1)).fit(x, labels: sets(l), labelCount: l.columns)
            let report = try fitted.evaluate(xt, truth: sets(lt))
            metric["test_micro_f1"] = report.microF1
            metric["test_map"] = report.meanAveragePrecision
        default:
            throw Npy.Failure(description: "unknown task head \(head): prototype, knn, ridge, ridgecv or ovr")
        }
        let seconds = Date().timeIntervalSince(start)
        let fields = metric.keys.sorted().map { "\"\($0)\": \(metric[$0]!)" }.joined(separator: ", ")
        print("{\"impl\": \"graft\", \"head\": \"\(head)\", \"seconds\": \(seconds), \(fields)}")
    }
}
