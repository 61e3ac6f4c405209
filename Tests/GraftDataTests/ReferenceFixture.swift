import Foundation
import XCTest
@testable import GraftData

/// Tests/Fixtures/data/reference.json, written by fixtures/data/make_fixtures.py (Pillow reference).
struct Reference: Decodable {
    struct Decode: Decodable {
        let pillow: String
        let libjpegTurbo: String
        let images: [Photo]
    }
    struct Photo: Decodable {
        let file: String, format: String, pilMode: String
        let width: Int, height: Int
        let mean: [Double]
        let fnv1a64: String
        let samples: [[Int]]                 // x, y, r, g, b
    }
    struct Pixels: Decodable {
        let file: String
        let width: Int, height: Int
        let pixels: [UInt8]
        let orientation: Int?
        let note: String?
        let pil: [UInt8]?
    }
    struct Resize: Decodable {
        let file: String
        let box: [Int]?
        let width: Int, height: Int
        let raw: String?
        let fnv1a64: String
        let samples: [[Int]]
        let floatSamples: [[Double]]
    }
    struct PipelineCase: Decodable {
        struct Result: Decodable {
            let fnv1a64: String
            let samples: [[Int]]
            let normalized: [[Double]]
        }
        let file: String
        let imagenet: Result
        let efficientnetLite: Result
    }
    struct Jitter: Decodable {
        struct Case: Decodable { let factor: Double; let pixels: [UInt8] }
        let width: Int, height: Int
        let input: [UInt8]
        let brightness: [Case], contrast: [Case], saturation: [Case]
    }
    struct Datasets: Decodable {
        struct IDX: Decodable {
            let count: Int, images: Int, rows: Int, cols: Int
            let firstLabels: [Int]
            let firstImageSum: Int
            let firstImageMiddle: [UInt8]
        }
        struct Digits: Decodable { let count: Int; let firstLabels: [Int]; let firstPixels: [Int]; let perClass: [Int] }
        struct Rotten: Decodable {
            let rows: Int, freshRotten: Int, fresh: Int
            let firstText: String, firstLabel: String
            let multilineTexts: Int
            let lastText: String, lastLabel: String
        }
        let fashion_train: IDX, fashion_test: IDX
        let digits: Digits
        let rottenTomatoes: Rotten
    }
    let decode: Decode
    let orientation: [Pixels]
    let png: [Pixels]
    let cmyk: Pixels
    let resize: [Resize]
    let pipeline: [PipelineCase]
    let jitter: Jitter
    let datasets: Datasets

    static let directory = FixturePaths.fixtures.appendingPathComponent("data")

    static let shared: Reference = {
        let url = directory.appendingPathComponent("reference.json")
        do {
            return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot load \(url.path): \(error) - run fixtures/data/make_fixtures.py")
        }
    }()
}

/// FNV-1a 64-bit hash of a byte buffer, hex (matches make_fixtures.py).
func fnv1a64(_ bytes: [UInt8]) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    let s = String(h, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}

/// Largest absolute difference between two equally long byte buffers.
func maxAbsDiff(_ a: [UInt8], _ b: [UInt8]) -> Int {
    precondition(a.count == b.count, "sizes differ: \(a.count) vs \(b.count)")
    var m = 0
    for i in a.indices { m = max(m, abs(Int(a[i]) - Int(b[i]))) }
    return m
}

/// Largest sampled difference between an image and `[x, y, r, g, b]` reference samples.
func maxSampleDiff(_ image: RGBImage, _ samples: [[Int]]) -> Int {
    var m = 0
    for s in samples {
        let p = image[s[0], s[1]]
        m = max(m, abs(Int(p.r) - s[2]), abs(Int(p.g) - s[3]), abs(Int(p.b) - s[4]))
    }
    return m
}

func channelMeans(_ image: RGBImage) -> [Double] {
    var sums = [0.0, 0.0, 0.0]
    for i in 0..<(image.width * image.height) {
        for c in 0..<3 { sums[c] += Double(image.pixels[3 * i + c]) }
    }
    return sums.map { $0 / Double(image.width * image.height) }
}

/// A fresh empty directory under the system temporary directory.
func makeTemporaryDirectory(_ name: String = #function) throws -> URL {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("graft-data-tests-\(safe)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
