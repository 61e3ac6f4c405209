import Foundation

/// Predicted against true values as inline SVG: one dot per item, both axes on one range, and the
/// diagonal y = x where a perfect model's dots would lie (regression reports).
struct SVGScatterPlot {
    var title: String
    var truth: [Double]
    var predicted: [Double]
    var side = 300

    func svg() -> String {
        let margin = 48.0, top = 30.0
        let plot = Double(side) - margin - 12
        let values = (truth + predicted).filter(\.isFinite)
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi - lo < 1e-12 { lo -= 1; hi += 1 }
        let ticks = SVGLineChart.ticks(lo, hi, count: 5)
        lo = min(lo, ticks.first ?? lo); hi = max(hi, ticks.last ?? hi)
        func px(_ v: Double) -> Double { margin + (v - lo) / (hi - lo) * plot }
        func py(_ v: Double) -> Double { top + (1 - (v - lo) / (hi - lo)) * plot }
        let height = Int(top + plot + 40)
        var s = #"<svg class="chart scatter" width="\#(side)" height="\#(height)" viewBox="0 0 \#(side) \#(height)" role="img" aria-label="\#(HTMLPage.escape(title))">"#
        s += #"<text x="\#(f(margin))" y="18" font-size="14" font-weight="600">\#(HTMLPage.escape(title))</text>"#
        for t in ticks where t >= lo - 1e-12 && t <= hi + 1e-12 {
            s += #"<line x1="\#(f(margin))" y1="\#(f(py(t)))" x2="\#(f(margin + plot))" y2="\#(f(py(t)))" stroke="rgb(209,217,224)"/>"#
            s += #"<text x="\#(f(margin - 6))" y="\#(f(py(t) + 4))" font-size="11" text-anchor="end">\#(SVGLineChart.label(t))</text>"#
            s += #"<text x="\#(f(px(t)))" y="\#(f(top + plot + 16))" font-size="11" text-anchor="middle">\#(SVGLineChart.label(t))</text>"#
        }
        s += #"<rect x="\#(f(margin))" y="\#(f(top))" width="\#(f(plot))" height="\#(f(plot))" fill="none" stroke="rgb(89,99,110)"/>"#
        s += #"<line class="diagonal" x1="\#(f(px(lo)))" y1="\#(f(py(lo)))" x2="\#(f(px(hi)))" y2="\#(f(py(hi)))" stroke="rgb(188,76,0)" stroke-dasharray="6 4"/>"#
        s += #"<g class="points" fill="rgb(9,105,218)" fill-opacity="0.45">"#
        for (t, p) in zip(truth, predicted) where t.isFinite && p.isFinite {
            s += #"<circle cx="\#(f(px(t)))" cy="\#(f(py(p)))" r="2.5"/>"#
        }
        s += "</g>"
        s += #"<text x="\#(f(margin + plot / 2))" y="\#(height - 4)" font-size="12" text-anchor="middle">true</text>"#
        s += #"<text transform="translate(12 \#(f(top + plot / 2))) rotate(-90)" font-size="12" text-anchor="middle">predicted</text>"#
        return s + "</svg>"
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
}
