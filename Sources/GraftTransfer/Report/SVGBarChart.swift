import Foundation

/// Horizontal bars, one per strategy, on a 0...1 axis (accuracy and
/// balanced accuracy side by side).
struct SVGBarChart {
    struct Bar {
        var label: String
        var value: Double
        var secondary: Double?
        var highlighted: Bool
    }

    var title: String
    var bars: [Bar]
    var width = 560

    func svg() -> String {
        let labelSpace = min(260.0, 6.6 * Double(bars.map(\.label.count).max() ?? 8) + 16)
        let left = labelSpace, right = 56.0, top = 30.0, rowH = 30.0
        let plotW = Double(width) - left - right
        let height = Int(top + rowH * Double(bars.count) + 30)
        var s = #"<svg class="chart bar-chart" width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)" role="img" aria-label="\#(HTMLPage.escape(title))">"#
        s += #"<text x="8" y="18" font-size="13" font-weight="600">\#(HTMLPage.escape(title))</text>"#
        for t in stride(from: 0.0, through: 1.0, by: 0.25) {
            let x = left + t * plotW
            s += #"<line x1="\#(f(x))" y1="\#(f(top - 4))" x2="\#(f(x))" y2="\#(f(top + rowH * Double(bars.count)))" stroke="rgb(209,217,224)"/>"#
            s += #"<text x="\#(f(x))" y="\#(f(top + rowH * Double(bars.count) + 14))" font-size="10" text-anchor="middle">\#(String(format: "%.2f", t))</text>"#
        }
        for (i, bar) in bars.enumerated() {
            let y = top + Double(i) * rowH
            let v = max(0, min(1, bar.value.isFinite ? bar.value : 0))
            s += #"<text x="\#(f(left - 8))" y="\#(f(y + rowH / 2 + 4))" font-size="12" text-anchor="end"\#(bar.highlighted ? #" font-weight="600""# : "")>\#(HTMLPage.escape(bar.label))</text>"#
            s += #"<rect x="\#(f(left))" y="\#(f(y + 5))" width="\#(f(max(1, v * plotW)))" height="12" fill="\#(bar.highlighted ? "rgb(26,127,55)" : "rgb(9,105,218)")"><title>accuracy \#(String(format: "%.4f", bar.value))</title></rect>"#
            if let b = bar.secondary, b.isFinite {
                s += #"<rect x="\#(f(left))" y="\#(f(y + 19))" width="\#(f(max(1, max(0, min(1, b)) * plotW)))" height="6" fill="rgb(140,149,159)"><title>balanced accuracy \#(String(format: "%.4f", b))</title></rect>"#
            }
            s += #"<text x="\#(f(left + v * plotW + 6))" y="\#(f(y + 15))" font-size="11">\#(String(format: "%.3f", bar.value))</text>"#
        }
        return s + "</svg>"
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
}
