import Foundation

/// The frame of every Graft report: one self-contained HTML file (inline CSS,
/// inline SVG, images as data URIs) whose Content-Security-Policy forbids
/// loading anything from elsewhere, so a stray external reference fails loudly.
enum HTMLPage {
    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
        <meta name="generator" content="Graft">
        <title>\(escape(title))</title>
        <style>\(css)</style>
        </head>
        <body>
        \(body)
        <footer>Made by Graft. Self-contained: no scripts, no external files.</footer>
        </body>
        </html>

        """
    }

    /// Text and attribute values safe inside HTML and SVG.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    static func fixed(_ v: Double, _ digits: Int = 3) -> String { v.isFinite ? String(format: "%.\(digits)f", v) : "–" }
    static func percent(_ v: Double, _ digits: Int = 1) -> String { v.isFinite ? String(format: "%.\(digits)f%%", v * 100) : "–" }

    static func seconds(_ s: Double) -> String {
        guard s.isFinite else { return "–" }
        if s < 60 { return String(format: "%.1f s", s) }
        return String(format: "%dm %02ds", Int(s) / 60, Int(s) % 60)
    }

    /// 4,690,000 style grouping.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    static let css = """
    :root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--accent:#0969da;--good:#1a7f37;--bad:#cf222e}
    *{box-sizing:border-box}
    body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);margin:0 auto;max-width:1180px;padding:24px 32px 48px;background:#fff}
    h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}h3{font-size:15px;margin:16px 0 6px}
    p.meta{color:var(--muted);margin:0 0 16px}
    table{border-collapse:collapse;margin:8px 0 16px;font-variant-numeric:tabular-nums}
    th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
    th{background:var(--soft);font-weight:600}th:first-child,td:first-child{text-align:left}
    tr.best td{background:#dafbe1}tr.best td:first-child{font-weight:600}
    tr.average td{color:var(--muted);font-style:italic}
    td.bar{background:linear-gradient(90deg,#ddf4ff var(--v),transparent var(--v))}
    .cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0 16px}
    .card{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:120px}
    .card b{display:block;font-size:20px}.card span{color:var(--muted);font-size:12px}
    .charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
    .charts svg,.panel svg{border:1px solid var(--line);border-radius:6px;background:#fff}
    .panel{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
    details{border:1px solid var(--line);border-radius:6px;padding:8px 14px;margin:8px 0}
    summary{cursor:pointer;font-weight:600}
    .examples{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px}
    .examples.text{grid-template-columns:repeat(auto-fill,minmax(320px,1fr))}
    figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px;background:var(--soft)}
    figure img{display:block;width:128px;height:128px;object-fit:contain;image-rendering:pixelated;margin:0 auto 6px;background:#fff}
    figure blockquote{margin:0 0 6px;font-size:13px;white-space:pre-wrap;overflow-wrap:anywhere}
    figcaption{font-size:12px;color:var(--muted)}figcaption .wrong{color:var(--bad);font-weight:600}figcaption .truth{color:var(--good);font-weight:600}
    .note{color:var(--muted)}
    footer{margin-top:40px;color:var(--muted);font-size:12px}
    svg text{font-family:system-ui,"DejaVu Sans",sans-serif;fill:#1f2328}
    """
}
