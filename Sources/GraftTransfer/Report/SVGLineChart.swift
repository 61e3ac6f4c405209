import Foundation

/// A line chart over epochs as inline SVG: one polyline with point markers
/// per series, labelled axes and a legend. Missing values break nothing;
/// they are skipped.
struct SVGLineChart {
    struct Series {
        var name: String
        var color: String
        /// One value per x position; nil where the series has no value.
        var values: [Double?]
        var dashed = false
    }

    var title: String
    var yLabel: String
    /// x of each position (epoch numbers, 1-based).
    var xs: [Double]
    var series: [Series]
    /// Fixed y range (accuracy: 0...1); nil fits the data from 0.
    var yRange: ClosedRange<Double>?
    var width = 460
    var height = 270

    func svg() -> String {
        let left = 56.0, right = 16.0, top = 34.0, bottom = 44.0
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        let finite = series.flatMap { $0.values.compactMap { $0 } }.filter(\.isFinite)
        let yMax = yRange?.upperBound ?? max(finite.max() ?? 1, 1e-9) * 1.05
        let yMin = yRange?.lowerBound ?? min(0, finite.min() ?? 0)
        let yTicks = Self.ticks(yMin, yMax, count: 5)
        let lo = min(yMin, yTicks.first ?? yMin), hi = max(yMax, yTicks.last ?? yMax)
        let xMin = xs.min() ?? 0, xMax = max(xs.max() ?? 1, xMin + 1)
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - lo) / max(hi - lo, 1e-12)) * plotH }

        var s = #"<svg class="chart line-chart" width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)" role="img" aria-label="\#(HTMLPage.escape(title))">"#
        s += #"<text x="\#(left)" y="20" font-size="14" font-weight="600">\#(HTMLPage.escape(title))</text>"#
        // Grid and y axis labels.
        for t in yTicks where t >= lo - 1e-12 && t <= hi + 1e-12 {
            let y = f(py(t))
            s += #"<line x1="\#(f(left))" y1="\#(y)" x2="\#(f(left + plotW))" y2="\#(y)" stroke="rgb(209,217,224)" stroke-width="1"/>"#
            s += #"<text x="\#(f(left - 6))" y="\#(f(py(t) + 4))" font-size="11" text-anchor="end">\#(Self.label(t))</text>"#
        }
        // x ticks: every epoch when few, otherwise about 8 of them.
        let stride = max(1, Int((Double(xs.count) / 8).rounded(.up)))
        for (i, x) in xs.enumerated() where i % stride == 0 || i == xs.count - 1 {
            s += #"<line x1="\#(f(px(x)))" y1="\#(f(top + plotH))" x2="\#(f(px(x)))" y2="\#(f(top + plotH + 4))" stroke="rgb(89,99,110)"/>"#
            s += #"<text x="\#(f(px(x)))" y="\#(f(top + plotH + 17))" font-size="11" text-anchor="middle">\#(Self.label(x))</text>"#
        }
        s += #"<line x1="\#(f(left))" y1="\#(f(top + plotH))" x2="\#(f(left + plotW))" y2="\#(f(top + plotH))" stroke="rgb(89,99,110)"/>"#
        s += #"<line x1="\#(f(left))" y1="\#(f(top))" x2="\#(f(left))" y2="\#(f(top + plotH))" stroke="rgb(89,99,110)"/>"#
        s += #"<text x="\#(f(left + plotW / 2))" y="\#(height - 6)" font-size="12" text-anchor="middle">epoch</text>"#
        s += #"<text transform="translate(14 \#(f(top + plotH / 2))) rotate(-90)" font-size="12" text-anchor="middle">\#(HTMLPage.escape(yLabel))</text>"#
        // Series.
        for (k, line) in series.enumerated() {
            let points = zip(xs, line.values).compactMap { x, v in v.flatMap { $0.isFinite ? (x, $0) : nil } }
            guard !points.isEmpty else { continue }
            let dash = line.dashed ? #" stroke-dasharray="6 4""# : ""
            s += #"<g class="series"><title>\#(HTMLPage.escape(line.name))</title>"#
            if points.count > 1 {
                s += #"<polyline fill="none" stroke="\#(line.color)" stroke-width="2"\#(dash) points="\#(points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " "))"/>"#
            }
            for (x, v) in points {
                s += #"<circle cx="\#(f(px(x)))" cy="\#(f(py(v)))" r="3" fill="\#(line.color)"><title>\#(HTMLPage.escape(line.name)) epoch \#(Self.label(x)): \#(String(format: "%.4f", v))</title></circle>"#
            }
            s += "</g>"
            // Legend in the title row, right-aligned, clear of the lines.
            let ly = 15.0, lx = left + plotW - Double(series.count - k) * 92
            s += #"<line x1="\#(f(lx))" y1="\#(f(ly))" x2="\#(f(lx + 18))" y2="\#(f(ly))" stroke="\#(line.color)" stroke-width="2"\#(dash)/>"#
            s += #"<text x="\#(f(lx + 24))" y="\#(f(ly + 4))" font-size="11">\#(HTMLPage.escape(line.name))</text>"#
        }
        return s + "</svg>"
    }

    /// About `count` round tick values covering lo...hi (steps of 1, 2 or 5 times a power of ten).
    static func ticks(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(max(count - 1, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var t = floor(lo / step) * step
        while t <= hi + step * 0.5 && out.count < 50 { out.append(t); t += step }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        return String(format: abs(v) >= 10 ? "%.1f" : "%.2f", v)
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
}
