import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GraftData
import GraftHeads
import XCTest
@testable import GraftTransfer

/// The HTML reports: well-formed enough to render, self-contained, one row per class, real charts.
final class HTMLReportTests: XCTestCase {
    static let classes = ["cat", "dog", "<b>&\"fish\""]

    static func report(_ truth: [Int], _ predicted: [Int]) throws -> ClassificationReport {
        // Probabilities that put 0.7 on the prediction, the rest spread.
        var p = [Float]()
        for k in predicted { for c in 0..<3 { p.append(c == k ? 0.7 : 0.15) } }
        return try ClassificationReport(truth: truth, predicted: predicted, probabilities: try FeatureMatrix(rows: truth.count, columns: 3, values: p),
                                        trainedClasses: [0, 1, 2])
    }

    static func synthetic() throws -> GraftTransfer.ComparisonResult {
        let truth = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
        let fine = try report(truth, [0, 0, 1, 1, 1, 1, 2, 2, 2, 0])
        let heads = try report(truth, [0, 1, 1, 1, 0, 1, 2, 2, 0, 0])
        let history: [EpochRecord] = (0..<4).map { (e: Int) -> EpochRecord in
            let d = Double(e)
            return EpochRecord(epoch: e, trainLoss: 1.2 / (d + 1), trainAccuracy: 0.5 + 0.1 * d, validationLoss: 1.3 / (d + 1) + 0.1,
                               validationAccuracy: 0.45 + 0.1 * d, learningRate: 0.01, seconds: 2, imagesPerSecond: 50)
        }
        let headsOutcome = StrategyOutcome(strategy: "features + logistic regression", detail: "C=1", accuracy: heads.accuracy,
                                           balancedAccuracy: heads.balancedAccuracy, trainSeconds: 3.5, trainableParameters: 3843,
                                           report: heads, history: nil)
        let fineOutcome = StrategyOutcome(strategy: "fine-tune", detail: "last 2 + head", accuracy: fine.accuracy,
                                          balancedAccuracy: fine.balancedAccuracy, trainSeconds: 75, trainableParameters: 1_234_567,
                                          report: fine, history: history)
        return GraftTransfer.ComparisonResult(data: "synthetic", model: "efficientnet-lite0", classNames: classes, trainCount: 60,
                                              validationCount: 15, testCount: 10, perClass: 20, seed: 3, outcomes: [headsOutcome, fineOutcome])
    }

    static let thumbnail = RGBImage(width: 5, height: 4, pixels: (0..<60).map { UInt8($0 * 4) })!

    func testComparisonReportIsSelfContainedWithChartsAndClassRows() throws {
        let result = try Self.synthetic()
        let examples = [MisclassifiedExample(id: "test#7", truth: "dog", predicted: "cat", confidence: 0.93,
                                             thumbnailPNG: PNGEncoder.encode(Self.thumbnail))]
        let html = HTMLReport.comparison(result, examples: examples)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(result.bestOutcome?.strategy, "fine-tune")
        // Self-contained: no links out, no scripts.
        XCTAssertFalse(html.contains("http://"))
        XCTAssertFalse(html.contains("https://"))
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertFalse(html.contains("url("))
        // Charts: accuracy bars, loss + accuracy curves of the one strategy with a history, two heat maps.
        let svgs = Self.fragments(html, open: "<svg", close: "</svg>")
        XCTAssertEqual(svgs.count, 5)
        XCTAssertEqual(svgs.filter { $0.contains("line-chart") }.count, 2)
        XCTAssertEqual(svgs.filter { $0.contains("heatmap") }.count, 2)
        for svg in svgs { try Self.assertWellFormedXML(svg) }
        for chart in svgs where chart.contains("line-chart") {
            XCTAssertEqual(Self.count("<polyline", in: chart), 2, "train and validation lines")
            XCTAssertEqual(Self.count("<circle", in: chart), 8, "a marker per epoch per line")
        }
        // Heat map: 3 x 3 cells; the 2 of 3 right for "cat" shade darker than the 1 wrong.
        let heat = try XCTUnwrap(svgs.first { $0.contains("heatmap") && $0.contains("true cat → predicted cat: 2") })
        XCTAssertEqual(Self.count("<rect", in: heat), 9)
        // Per-class tables: three class rows per strategy, names escaped.
        XCTAssertEqual(Self.count(#"<tr class="class-row">"#, in: html), 6)
        XCTAssertTrue(html.contains("&lt;b&gt;&amp;&quot;fish&quot;"))
        XCTAssertFalse(html.contains("<b>&\"fish\""))
        // Comparison table: a row per strategy, the best one marked; the best strategy's details open.
        XCTAssertEqual(Self.count(#"<tr class="best">"#, in: html), 1)
        XCTAssertTrue(html.contains(#"<details class="strategy" open><summary>fine-tune"#))
        XCTAssertTrue(html.contains("1,234,567"))
        // Balanced tags.
        for tag in ["table", "details", "figure", "div", "svg", "tr", "title", "g"] {
            XCTAssertEqual(Self.count("<\(tag) ", in: html) + Self.count("<\(tag)>", in: html), Self.count("</\(tag)>", in: html), tag)
        }
        // The thumbnail is an inline PNG that decodes back to the exact pixels.
        let b64 = try XCTUnwrap(html.components(separatedBy: "data:image/png;base64,").dropFirst().first?.split(separator: "\"").first)
        let png = try XCTUnwrap(Data(base64Encoded: String(b64)))
        XCTAssertEqual(try ImageDecoder().decode(png, source: "thumbnail"), Self.thumbnail)
    }

    func testEvaluationReportWithTextMistakesAndCurves() throws {
        let result = try Self.synthetic()
        let r = try XCTUnwrap(result.outcomes[1].report)
        let html = HTMLReport.evaluation(report: r, classNames: Self.classes, title: "Evaluation of fine-tune <v2>",
                                         history: result.outcomes[1].history,
                                         examples: [MisclassifiedExample(id: "reviews.csv#3", truth: "dog", predicted: "cat", confidence: 0.8,
                                                                         text: "a <great> film & more")])
        XCTAssertTrue(html.contains("<title>Evaluation of fine-tune &lt;v2&gt;</title>"))
        XCTAssertTrue(html.contains("a &lt;great&gt; film &amp; more"))
        XCTAssertTrue(html.contains(HTMLPage.fixed(r.accuracy, 4)))
        XCTAssertTrue(html.contains("log-loss"))
        let svgs = Self.fragments(html, open: "<svg", close: "</svg>")
        XCTAssertEqual(svgs.count, 3)
        for svg in svgs { try Self.assertWellFormedXML(svg) }
        XCTAssertEqual(Self.count(#"<tr class="class-row">"#, in: html), 3)
        XCTAssertFalse(html.contains("http://") || html.contains("https://"))
    }

    func testPNGEncoderRoundTripsThroughTheDecoder() throws {
        var g = SystemRandomNumberGenerator()
        for (w, h) in [(1, 1), (17, 9), (64, 3)] {
            let image = try XCTUnwrap(RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { _ in UInt8.random(in: 0...255, using: &g) }))
            let png = try XCTUnwrap(PNGEncoder.encode(image))
            XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            XCTAssertEqual(try ImageDecoder().decode(png, source: "\(w)x\(h)"), image)
        }
    }

    func testMostConfidentMistakesAreRankedAndCarryTheirItems() throws {
        let pixels = (0..<(6 * 4 * 4)).map { UInt8($0 % 251) }
        let data = try InMemoryImageDataset(width: 4, height: 4, channels: 1, pixels: pixels, labels: [0, 1, 2, 0, 1, 2],
                                            classNames: ["a", "b", "c"], idPrefix: "tiny")
        // Rows 1, 3, 4 are wrong, with confidences 0.6, 0.9, 0.75.
        let p = try ItemPredictions(indices: [0, 1, 2, 3, 4, 5], ids: (0..<6).map { "tiny#\($0)" }, truth: [0, 1, 2, 0, 1, 2],
                                    predicted: [0, 2, 2, 1, 0, 2], confidence: [0.99, 0.6, 0.8, 0.9, 0.75, 0.7])
        let top = Misclassifications.mostConfident(p, dataset: data, k: 2)
        XCTAssertEqual(top.map(\.id), ["tiny#3", "tiny#4"])
        XCTAssertEqual(top.map(\.truth), ["a", "b"])
        XCTAssertEqual(top.map(\.predicted), ["b", "a"])
        XCTAssertEqual(top[0].confidence, 0.9, accuracy: 1e-6)
        XCTAssertEqual(try ImageDecoder().decode(try XCTUnwrap(top[0].thumbnailPNG), source: "t"), data.image(at: 3))
        XCTAssertEqual(Misclassifications.mostConfident(p, dataset: data, k: 10).count, 3)
        // A bundle whose class names differ: a mistake is a differing name.
        let renamed = Misclassifications.mostConfident(p, dataset: data, predictedClassNames: ["a", "c", "b"], k: 10)
        XCTAssertEqual(renamed.map(\.id), ["tiny#3", "tiny#2", "tiny#4", "tiny#5"])
        // Large images shrink to the thumbnail side, keeping the aspect.
        let wide = try XCTUnwrap(RGBImage(width: 300, height: 150, pixels: [UInt8](repeating: 128, count: 300 * 150 * 3)))
        let t = Misclassifications.thumbnail(wide, side: 96)
        XCTAssertEqual([t.width, t.height], [96, 48])
    }

    func testHeadPredictionsUseSoftmaxOfSVMMargins() throws {
        let data = try InMemoryImageDataset(width: 1, height: 1, channels: 1, pixels: [0, 0], labels: [0, 1], classNames: ["x", "y"], idPrefix: "p")
        let head = try LinearHead(kind: .linearSVM, classes: [0, 1], featureCount: 2, weights: [1, 0, 0, 1], bias: [0, 0], standardization: nil, C: 1)
        let x = try FeatureMatrix(rows: 2, columns: 2, values: [2, 0, 0.5, 1.5])
        let p = try ItemPredictions(head: head, features: x, ids: ["p#1", "p#0"], truth: [0, 1], dataset: data, among: [0, 1])
        XCTAssertEqual(p.indices, [1, 0])
        XCTAssertEqual(p.predicted, [0, 1])
        XCTAssertEqual(p.confidence[0], Float(1 / (1 + exp(-2.0))), accuracy: 1e-6)
        XCTAssertEqual(p.confidence[1], Float(1 / (1 + exp(-1.0))), accuracy: 1e-6)
    }

    // MARK: Helpers

    static func count(_ needle: String, in s: String) -> Int { s.components(separatedBy: needle).count - 1 }

    static func fragments(_ s: String, open: String, close: String) -> [String] {
        var out: [String] = []
        var rest = s[...]
        while let a = rest.range(of: open), let b = rest.range(of: close, range: a.upperBound..<rest.endIndex) {
            out.append(String(rest[a.lowerBound..<b.upperBound]))
            rest = rest[b.upperBound...]
        }
        return out
    }

    static func assertWellFormedXML(_ fragment: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let parser = XMLParser(data: Data(fragment.utf8))
        XCTAssertTrue(parser.parse(), "SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "") in \(fragment.prefix(200))", file: file, line: line)
    }
}
