import Foundation
import GraftData
import GraftTransfer
import XCTest
@testable import GraftServe

final class ServeUnitTests: XCTestCase {
    func testImageHeaderReadsPNGAndJPEGSizes() throws {
        let png = Array(ServeFixtures.gradientPNG)
        XCTAssertEqual(ImageHeader.dimensions(png)?.width, 40)
        XCTAssertEqual(ImageHeader.dimensions(png)?.height, 30)
        let jpeg = Array(try ServeFixtures.chinaJPEG)
        let decoded = try ImageDecoder(appliesExifOrientation: false).decode(Data(jpeg), source: "china.jpg")
        XCTAssertEqual(ImageHeader.dimensions(jpeg)?.width, decoded.width)
        XCTAssertEqual(ImageHeader.dimensions(jpeg)?.height, decoded.height)
        XCTAssertNil(ImageHeader.dimensions(Array("not an image".utf8)))
        XCTAssertNil(ImageHeader.dimensions([0xFF, 0xD8, 0xFF, 0xE0, 0x00]))  // cut inside a segment
        XCTAssertNil(ImageHeader.dimensions([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0x00, 0x00]))  // impossible length
    }

    func testMetricsRenderPrometheusHistograms() {
        let m = ServeMetrics()
        m.recordRequest(path: "/v1/predict", status: 200, seconds: 0.003)
        m.recordRequest(path: "/v1/predict", status: 200, seconds: 0.2)
        m.recordRequest(path: "/nope", status: 404, seconds: 0.0001)
        m.recordBatch(size: 3, seconds: 0.02)
        let text = m.render()
        XCTAssertTrue(text.contains(#"graft_http_requests_total{route="/v1/predict",status="200"} 2"#))
        XCTAssertTrue(text.contains(#"graft_http_requests_total{route="other",status="404"} 1"#))
        XCTAssertTrue(text.contains(#"graft_http_request_duration_seconds_bucket{route="/v1/predict",le="0.0025"} 0"#))
        XCTAssertTrue(text.contains(#"graft_http_request_duration_seconds_bucket{route="/v1/predict",le="0.005"} 1"#))
        XCTAssertTrue(text.contains(#"graft_http_request_duration_seconds_bucket{route="/v1/predict",le="0.25"} 2"#))
        XCTAssertTrue(text.contains(#"graft_http_request_duration_seconds_bucket{route="/v1/predict",le="+Inf"} 2"#))
        XCTAssertTrue(text.contains(#"graft_http_request_duration_seconds_sum{route="/v1/predict"} 0.203"#))
        XCTAssertTrue(text.contains(#"graft_batch_size_bucket{le="2"} 0"#))
        XCTAssertTrue(text.contains(#"graft_batch_size_bucket{le="4"} 1"#))
        XCTAssertTrue(text.contains("graft_batch_size_sum 3\n"))
        // Every sample line is "name{labels} value" or "name value"; comments start with '#'.
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            XCTAssertEqual(line.split(separator: " ").count, 2, String(line))
            XCTAssertNotNil(Double(line.split(separator: " ").last ?? ""), String(line))
        }
    }
}
