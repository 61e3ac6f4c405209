import Foundation

/// A confusion matrix as an SVG heat map. Cells are shaded by the share of
/// their row (the true class), so classes with different support compare:
/// blue on the diagonal (right), red off it (wrong). Counts are printed
/// when the cells are large enough; every cell has a tooltip.
struct SVGConfusionHeatmap {
    /// `matrix[t][p]`: items of true class `t` predicted as `p`.
    var matrix: [[Int]]
    /// Names of the rows and columns, in matrix order.
    var labels: [String]

    func svg() -> String {
        let n = matrix.count
        guard n > 0 else { return #"<svg class="chart heatmap" width="200" height="40"><text x="8" y="24" font-size="12">no rows</text></svg>"# }
        let cell = max(4.0, min(44.0, 520.0 / Double(n)))
        let showNames = cell >= 9
        let longest = Double(labels.map(\.count).max() ?? 1)
        let nameSpace = showNames ? min(150.0, 6.5 * longest + 12) : 12
        let left = nameSpace + 22, top = 40.0
        let size = cell * Double(n)
        let bottom = nameSpace * 0.75 + 30
        let width = Int((left + size + 16).rounded(.up)), height = Int((top + size + bottom).rounded(.up))
        let fontSize = min(12.0, max(7.0, cell * 0.38))

        var s = #"<svg class="chart heatmap" width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)" role="img" aria-label="confusion matrix">"#
        s += #"<text x="\#(f(left))" y="16" font-size="13" font-weight="600">Confusion matrix (rows: true class, shade: share of row)</text>"#
        s += #"<text x="\#(f(left + size / 2))" y="32" font-size="11" text-anchor="middle">predicted →</text>"#
        s += #"<text transform="translate(12 \#(f(top + size / 2))) rotate(-90)" font-size="11" text-anchor="middle">true</text>"#
        for t in 0..<n {
            let row = matrix[t]
            let total = row.reduce(0, +)
            for p in 0..<min(n, row.count) {
                let count = row[p]
                let share = total > 0 ? Double(count) / Double(total) : 0
                let x = left + Double(p) * cell, y = top + Double(t) * cell
                let fill = Self.color(share, diagonal: t == p)
                s += #"<rect x="\#(f(x))" y="\#(f(y))" width="\#(f(cell))" height="\#(f(cell))" fill="\#(fill)" stroke="rgb(255,255,255)" stroke-width="\#(cell >= 8 ? 1 : 0)">"#
                s += #"<title>true \#(HTMLPage.escape(name(t))) → predicted \#(HTMLPage.escape(name(p))): \#(count) (\#(String(format: "%.1f", share * 100))% of row)</title></rect>"#
                if cell >= 20 && count > 0 {
                    let ink = share > 0.55 ? "rgb(255,255,255)" : "rgb(31,35,40)"
                    s += #"<text x="\#(f(x + cell / 2))" y="\#(f(y + cell / 2 + fontSize / 3))" font-size="\#(f(fontSize))" text-anchor="middle" style="fill:\#(ink)">\#(count)</text>"#
                }
            }
        }
        if showNames {
            for i in 0..<n {
                let short = HTMLPage.escape(abbreviated(name(i)))
                s += #"<text x="\#(f(left - 5))" y="\#(f(top + (Double(i) + 0.5) * cell + 4))" font-size="\#(f(fontSize))" text-anchor="end">\#(short)</text>"#
                let cx = left + (Double(i) + 0.5) * cell, cy = top + size + 8
                s += #"<text transform="translate(\#(f(cx)) \#(f(cy))) rotate(-45)" font-size="\#(f(fontSize))" text-anchor="end">\#(short)</text>"#
            }
        }
        return s + "</svg>"
    }

    private func name(_ i: Int) -> String { i < labels.count ? labels[i] : "#\(i)" }
    private func abbreviated(_ s: String) -> String { s.count > 22 ? String(s.prefix(21)) + "…" : s }

    /// White to blue (diagonal) or white to red (errors), by share 0...1.
    static func color(_ share: Double, diagonal: Bool) -> String {
        let t = max(0, min(1, share)).squareRoot()  // square root: small error shares stay visible
        let end: (Double, Double, Double) = diagonal ? (8, 81, 156) : (203, 24, 29)
        let mix = { (e: Double) in Int((255 + (e - 255) * t).rounded()) }
        return String(format: "#%02x%02x%02x", mix(end.0), mix(end.1), mix(end.2))
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
}
