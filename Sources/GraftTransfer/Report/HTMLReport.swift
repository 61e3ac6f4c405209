import Foundation
import GraftHeads

/// Self-contained HTML reports (one file, inline CSS and SVG, images as data
/// URIs, no scripts) that people open in a browser: the comparison of
/// strategies, training curves, confusion matrices, per-class metrics and
/// the most confidently wrong examples.
///
/// ```swift
/// let html = HTMLReport.comparison(result, examples: mistakes)
/// try html.write(to: url, atomically: true, encoding: .utf8)
/// ```
public enum HTMLReport {
    /// The report of `graft compare`: every strategy on one split.
    /// - Parameter examples: mistakes of the best strategy (`ComparisonResult.bestOutcome`).
    public static func comparison(_ r: ComparisonResult, examples: [MisclassifiedExample] = []) -> String {
        let best = r.bestOutcome
        var b = "<h1>\(e("Comparison: \(r.data) with \(r.model)"))</h1>\n"
        b += #"<p class="meta">\#(r.trainCount) training items (\#(r.perClass.map { "\($0) per class" } ?? "all")), \#(r.validationCount) validation, \#(r.testCount) test; \#(r.classNames.count) classes; seed \#(r.seed).</p>"#
        b += "\n<h2>Strategies</h2>\n"
        if r.outcomes.isEmpty {
            b += #"<p class="note">No strategy ran.</p>"#
        } else {
            b += strategyTable(r.outcomes, best: best)
            b += SVGBarChart(title: "Test accuracy (thin bar: balanced accuracy)",
                             bars: r.outcomes.map { .init(label: $0.strategy, value: $0.accuracy, secondary: $0.balancedAccuracy,
                                                          highlighted: $0.strategy == best?.strategy) }).svg()
        }
        b += "\n<h2>Training curves</h2>\n"
        let trained = r.outcomes.filter { !($0.history ?? []).isEmpty }
        if trained.isEmpty {
            b += #"<p class="note">No strategy trained by epochs (feature heads fit in one solve).</p>"#
        }
        for o in trained {
            b += "<h3>\(e(o.strategy))\(o.detail.isEmpty ? "" : " <span class=\"note\">(\(e(o.detail)))</span>")</h3>\n"
            b += curves(o.history ?? [])
        }
        b += "\n<h2>Per-class results</h2>\n"
        for o in r.outcomes {
            let open = o.strategy == best?.strategy ? " open" : ""
            b += "<details class=\"strategy\"\(open)><summary>\(e(o.strategy)): accuracy \(HTMLPage.fixed(o.accuracy, 4))\(open.isEmpty ? "" : " (best)")</summary>\n"
            if let report = o.report { b += classPanel(report, classNames: r.classNames) }
            b += "</details>\n"
        }
        b += "\n<h2>Most confident mistakes\(best.map { " of \(e($0.strategy))" } ?? "")</h2>\n"
        b += examplesGrid(examples)
        return HTMLPage.document(title: "Graft comparison: \(r.data), \(r.model)", body: b)
    }

    /// The report of `graft evaluate` and `graft finetune`: one model on one test set.
    /// - Parameters:
    ///   - classNames: names of `report.labels` (label `i` is `classNames[i]`).
    ///   - history: training epochs, for curves (fine-tuning).
    ///   - examples: its most confident mistakes.
    public static func evaluation(report: ClassificationReport, classNames: [String], title: String,
                                  history: [EpochRecord]? = nil, examples: [MisclassifiedExample] = []) -> String {
        var b = "<h1>\(e(title))</h1>\n"
        b += #"<p class="meta">\#(report.rows) test items, \#(report.labels.count) classes\#(report.unseenRows > 0 ? ", \(report.unseenRows) with labels the model never saw" : "").</p>"#
        b += "\n<div class=\"cards\">"
        var cards = [("accuracy", HTMLPage.fixed(report.accuracy, 4)), ("balanced accuracy", HTMLPage.fixed(report.balancedAccuracy, 4)),
                     ("macro F1", HTMLPage.fixed(report.macroAverage.f1, 4)), ("weighted F1", HTMLPage.fixed(report.weightedAverage.f1, 4))]
        if let l = report.logLoss { cards.append(("log-loss", HTMLPage.fixed(l, 4))) }
        for (name, value) in cards { b += "<div class=\"card\"><b>\(value)</b><span>\(name)</span></div>" }
        b += "</div>\n"
        if let history, !history.isEmpty {
            b += "<h2>Training curves</h2>\n" + curves(history)
        }
        b += "<h2>Per-class results</h2>\n" + classPanel(report, classNames: classNames)
        b += "<h2>Most confident mistakes</h2>\n" + examplesGrid(examples)
        return HTMLPage.document(title: title, body: b)
    }

    // MARK: Parts

    static func strategyTable(_ outcomes: [StrategyOutcome], best: StrategyOutcome?) -> String {
        var t = "<table class=\"strategies\"><thead><tr><th>strategy</th><th>detail</th><th>accuracy</th><th>balanced acc.</th><th>macro F1</th><th>log-loss</th><th>train time</th><th>trainable params</th></tr></thead><tbody>\n"
        for o in outcomes {
            let cls = o.strategy == best?.strategy ? " class=\"best\"" : ""
            t += "<tr\(cls)><td>\(e(o.strategy))</td><td>\(e(o.detail))</td><td>\(HTMLPage.fixed(o.accuracy, 4))</td><td>\(HTMLPage.fixed(o.balancedAccuracy, 4))</td>"
            t += "<td>\(o.report.map { HTMLPage.fixed($0.macroAverage.f1, 4) } ?? "–")</td><td>\(o.report?.logLoss.map { HTMLPage.fixed($0, 4) } ?? "–")</td>"
            t += "<td>\(HTMLPage.seconds(o.trainSeconds))</td><td>\(HTMLPage.grouped(o.trainableParameters))</td></tr>\n"
        }
        return t + "</tbody></table>\n"
    }

    static func curves(_ history: [EpochRecord]) -> String {
        let xs = history.map { Double($0.epoch + 1) }
        let loss = SVGLineChart(title: "Loss", yLabel: "cross-entropy", xs: xs, series: [
            .init(name: "train", color: "#0969da", values: history.map(\.trainLoss)),
            .init(name: "validation", color: "#bc4c00", values: history.map(\.validationLoss), dashed: true),
        ], yRange: nil)
        let accuracy = SVGLineChart(title: "Accuracy", yLabel: "accuracy", xs: xs, series: [
            .init(name: "train", color: "#0969da", values: history.map(\.trainAccuracy)),
            .init(name: "validation", color: "#bc4c00", values: history.map(\.validationAccuracy), dashed: true),
        ], yRange: 0...1)
        return "<div class=\"charts\">\(loss.svg())\(accuracy.svg())</div>\n"
    }

    static func classPanel(_ report: ClassificationReport, classNames: [String]) -> String {
        let names = report.labels.map { $0 >= 0 && $0 < classNames.count ? classNames[$0] : "#\($0)" }
        var t = "<table class=\"per-class\"><thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead><tbody>\n"
        for (m, name) in zip(report.perClass, names) {
            t += "<tr class=\"class-row\"><td>\(e(name))</td>\(bar(m.precision))\(bar(m.recall))\(bar(m.f1))<td>\(m.support)</td></tr>\n"
        }
        for (label, avg) in [("macro average", report.macroAverage), ("weighted average", report.weightedAverage)] {
            t += "<tr class=\"average\"><td>\(label)</td><td>\(HTMLPage.fixed(avg.precision))</td><td>\(HTMLPage.fixed(avg.recall))</td><td>\(HTMLPage.fixed(avg.f1))</td><td>\(report.rows)</td></tr>\n"
        }
        t += "</tbody></table>"
        return "<div class=\"panel\">\(SVGConfusionHeatmap(matrix: report.confusionMatrix, labels: names).svg())\(t)</div>\n"
    }

    static func bar(_ v: Double) -> String {
        "<td class=\"bar\" style=\"--v:\(String(format: "%.1f", max(0, min(1, v)) * 100))%\">\(HTMLPage.fixed(v))</td>"
    }

    static func examplesGrid(_ examples: [MisclassifiedExample]) -> String {
        guard !examples.isEmpty else { return #"<p class="note">No mistakes collected.</p>"# + "\n" }
        let isText = examples.allSatisfy { $0.thumbnailPNG == nil }
        var g = "<div class=\"examples\(isText ? " text" : "")\">\n"
        for x in examples {
            g += "<figure class=\"example\">"
            if let png = x.thumbnailPNG {
                g += "<img alt=\"\(e(x.id))\" src=\"data:image/png;base64,\(png.base64EncodedString())\">"
            } else if let text = x.text {
                g += "<blockquote>\(e(text))</blockquote>"
            }
            g += "<figcaption>predicted <span class=\"wrong\">\(e(x.predicted))</span> (\(HTMLPage.percent(x.confidence)))<br>"
            g += "truth <span class=\"truth\">\(e(x.truth))</span><br>\(e(x.id))</figcaption></figure>\n"
        }
        return g + "</div>\n"
    }

    private static func e(_ s: String) -> String { HTMLPage.escape(s) }
}

extension ComparisonResult {
    /// The outcome with the highest test accuracy (the first on ties).
    public var bestOutcome: StrategyOutcome? {
        outcomes.reduce(nil) { best, o in
            guard let best else { return o }
            return o.accuracy > best.accuracy ? o : best
        }
    }
}
