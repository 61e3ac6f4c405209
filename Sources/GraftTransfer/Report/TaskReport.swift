import Foundation
import GraftData
import GraftHeads

extension HTMLReport {
    /// The report of a regression or multi-label model on test items (`graft finetune`, `graft train`,
    /// `graft evaluate`): headline cards, training curves, then per target a predicted-vs-true scatter
    /// plot and its errors (regression), or per label precision, recall, F1 and average precision (multi-label).
    /// - Parameters:
    ///   - names: target or label names, in output order.
    ///   - scored: the items' predicted values and targets (the scatter plots); nil draws none.
    public static func taskEvaluation(_ metrics: TaskMetrics, names: [String], scored: Evaluation.Scored?, title: String,
                                      history: [EpochRecord] = [], metricName: String = "") -> String {
        var b = "<h1>\(HTMLPage.escape(title))</h1>\n"
        var cards: [(String, String)] = []
        switch metrics {
        case let .regression(r):
            b += #"<p class="meta">\#(r.rows) test items, \#(names.count) target\#(names.count == 1 ? "" : "s").</p>"#
            cards = [("MAE", HTMLPage.fixed(r.meanAbsoluteError, 4)), ("RMSE", HTMLPage.fixed(r.rootMeanSquaredError, 4)), ("R²", HTMLPage.fixed(r.r2, 4))]
        case let .multiLabel(m):
            b += #"<p class="meta">\#(m.rows) test items, \#(names.count) labels.</p>"#
            cards = [("micro F1", HTMLPage.fixed(m.microF1, 4)), ("macro F1", HTMLPage.fixed(m.macroF1, 4)),
                     ("mAP", HTMLPage.fixed(m.meanAveragePrecision, 4)), ("Hamming loss", HTMLPage.fixed(m.hammingLoss, 4))]
        case let .detection(d):
            b += #"<p class="meta">\#(d.images) test images, \#(d.objects) objects, \#(names.count) classes.</p>"#
            cards = [("mAP@0.5", HTMLPage.fixed(d.map50, 4)), ("mAP@0.5:0.95", HTMLPage.fixed(d.map5095, 4))]
        }
        b += "\n<div class=\"cards\">" + cards.map { "<div class=\"card\"><b>\($0.1)</b><span>\($0.0)</span></div>" }.joined() + "</div>\n"
        if !history.isEmpty { b += "<h2>Training curves</h2>\n" + curves(history, metricName: metricName) }
        switch metrics {
        case let .regression(r):
            b += "<h2>Predicted against true values</h2>\n<div class=\"charts\">"
            if let scored, case let .values(y, width) = scored.targets, width == names.count {
                for (t, name) in names.enumerated() {
                    let truth = stride(from: t, to: y.count, by: width).map { Double(y[$0]) }
                    let predicted = (0..<scored.scores.rows).map { Double(scored.scores[$0, t]) }
                    b += SVGScatterPlot(title: name, truth: truth, predicted: predicted).svg()
                }
            }
            b += "</div>\n<table class=\"per-class\"><thead><tr><th>target</th><th>MAE</th><th>RMSE</th><th>R²</th></tr></thead><tbody>\n"
            for (t, name) in zip(r.perTarget, names) {
                b += "<tr><td>\(HTMLPage.escape(name))</td><td>\(HTMLPage.fixed(t.meanAbsoluteError, 4))</td><td>\(HTMLPage.fixed(t.rootMeanSquaredError, 4))</td><td>\(HTMLPage.fixed(t.r2, 4))</td></tr>\n"
            }
            b += "</tbody></table>\n"
        case let .multiLabel(m):
            b += "<h2>Per-label results</h2>\n<table class=\"per-class\"><thead><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>average precision</th><th>support</th></tr></thead><tbody>\n"
            for l in m.perLabel {
                let name = l.label < names.count ? names[l.label] : "#\(l.label)"
                b += "<tr class=\"class-row\"><td>\(HTMLPage.escape(name))</td>\(bar(l.precision))\(bar(l.recall))\(bar(l.f1))\(bar(l.averagePrecision))<td>\(l.support)</td></tr>\n"
            }
            b += "</tbody></table>\n"
        case let .detection(d):
            b += "<h2>Per-class average precision</h2>\n<table class=\"per-class\"><thead><tr><th>class</th><th>AP@0.5</th><th>AP@0.5:0.95</th><th>objects</th></tr></thead><tbody>\n"
            for c in d.perClass {
                b += "<tr class=\"class-row\"><td>\(HTMLPage.escape(c.name))</td>\(bar(c.ap50))\(bar(c.ap5095))<td>\(c.objects)</td></tr>\n"
            }
            b += "</tbody></table>\n"
        }
        return HTMLPage.document(title: title, body: b)
    }

    /// Loss and the task's metric over epochs (R^2 and micro-F1 are not accuracies).
    static func curves(_ history: [EpochRecord], metricName: String) -> String {
        guard metricName != "acc", !metricName.isEmpty else { return curves(history) }
        let xs = history.map { Double($0.epoch + 1) }
        let loss = SVGLineChart(title: "Loss", yLabel: "loss", xs: xs, series: [
            .init(name: "train", color: "#0969da", values: history.map(\.trainLoss)),
            .init(name: "validation", color: "#bc4c00", values: history.map(\.validationLoss), dashed: true),
        ], yRange: nil)
        let metric = SVGLineChart(title: metricName, yLabel: metricName, xs: xs, series: [
            .init(name: "train", color: "#0969da", values: history.map(\.trainAccuracy)),
            .init(name: "validation", color: "#bc4c00", values: history.map(\.validationAccuracy), dashed: true),
        ], yRange: nil)
        return "<div class=\"charts\">\(loss.svg())\(metric.svg())</div>\n"
    }
}
