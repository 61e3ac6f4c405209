import Foundation
import XCTest
@testable import GraftData

final class DecodeTests: XCTestCase {
    let decoder = ImageDecoder()

    /// scikit-image and scikit-learn sample photos against Pillow. PNG must be exact;
    /// JPEG within 1 (Pillow bundles libjpeg-turbo 3.x, Debian ships 2.1.5).
    func testSamplePhotosMatchPillow() throws {
        let ref = Reference.shared.decode
        XCTAssertGreaterThanOrEqual(ref.images.count, 25)
        var jpegExact = 0, jpegCount = 0
        for photo in ref.images {
            let url = FixturePaths.packages.appendingPathComponent(photo.file)
            let image = try decoder.decode(contentsOf: url)
            XCTAssertEqual(image.width, photo.width, photo.file)
            XCTAssertEqual(image.height, photo.height, photo.file)
            let means = channelMeans(image)
            if photo.format == "PNG" {
                XCTAssertEqual(fnv1a64(image.pixels), photo.fnv1a64, "\(photo.file) (\(photo.pilMode)) differs from Pillow")
                for c in 0..<3 { XCTAssertEqual(means[c], photo.mean[c], accuracy: 1e-9, photo.file) }
            } else {
                jpegCount += 1
                if fnv1a64(image.pixels) == photo.fnv1a64 { jpegExact += 1 }
                XCTAssertLessThanOrEqual(maxSampleDiff(image, photo.samples), 1, photo.file)
                for c in 0..<3 { XCTAssertEqual(means[c], photo.mean[c], accuracy: 0.05, photo.file) }
            }
        }
        // Both libjpeg-turbo releases use the same accurate integer IDCT and fancy upsampling.
        XCTAssertEqual(jpegExact, jpegCount, "JPEGs bit-identical to Pillow: \(jpegExact) of \(jpegCount)")
    }

    func testPNGColourTypes() throws {
        for item in Reference.shared.png {
            let url = Reference.directory.appendingPathComponent(item.file)
            let image = try decoder.decode(contentsOf: url)
            XCTAssertEqual(image.width, item.width, item.file)
            XCTAssertEqual(image.height, item.height, item.file)
            XCTAssertEqual(image.pixels, item.pixels, "\(item.file): \(item.note ?? "")")
            if item.file.contains("rgb16"), let pil = item.pil {
                XCTAssertLessThanOrEqual(maxAbsDiff(image.pixels, pil), 1, "16-bit RGB vs Pillow's high byte")
            }
        }
    }

    func testAlphaCompositing() throws {
        let url = Reference.directory.appendingPathComponent("png/rgba8.png")
        let plain = try decoder.decode(contentsOf: url)
        let white = try ImageDecoder(alpha: .overWhite).decode(contentsOf: url)
        let black = try ImageDecoder(alpha: .overBlack).decode(contentsOf: url)
        // Re-read the alpha channel through libpng to state the expectation independently.
        let rgba = try XCTUnwrap(readRGBA(url))
        for i in 0..<(plain.width * plain.height) {
            let a = Int(rgba[4 * i + 3])
            for c in 0..<3 {
                let v = Int(rgba[4 * i + c])
                XCTAssertEqual(Int(plain.pixels[3 * i + c]), v)
                XCTAssertEqual(Int(white.pixels[3 * i + c]), (v * a + 255 * (255 - a) + 127) / 255)
                XCTAssertEqual(Int(black.pixels[3 * i + c]), (v * a + 127) / 255)
            }
        }
    }

    func testCMYKJPEGMatchesPillow() throws {
        let item = Reference.shared.cmyk
        let image = try decoder.decode(contentsOf: Reference.directory.appendingPathComponent(item.file))
        XCTAssertEqual(image.width, item.width)
        XCTAssertEqual(image.height, item.height)
        XCTAssertLessThanOrEqual(maxAbsDiff(image.pixels, item.pixels), 1)
    }

    /// Eight JPEGs whose stored pixels are turned so that, with their EXIF tag
    /// applied, all show the same upright picture (both TIFF byte orders).
    func testExifOrientations() throws {
        let cases = Reference.shared.orientation
        XCTAssertEqual(cases.map { $0.orientation ?? 0 }, Array(1...8))
        for item in cases {
            let url = Reference.directory.appendingPathComponent(item.file)
            let data = try Data(contentsOf: url)
            let tag = data.withUnsafeBytes { ExifOrientation.read(jpeg: $0) }
            XCTAssertEqual(tag.rawValue, item.orientation, item.file)
            let image = try decoder.decode(contentsOf: url)
            XCTAssertEqual(image.width, 24, item.file)
            XCTAssertEqual(image.height, 16, item.file)
            XCTAssertLessThanOrEqual(maxAbsDiff(image.pixels, item.pixels), 1, item.file)
            let raw = try ImageDecoder(appliesExifOrientation: false).decode(contentsOf: url)
            XCTAssertEqual(raw.width, (item.orientation ?? 1) >= 5 ? 16 : 24, item.file)
        }
    }

    func testBrokenFilesGiveTypedErrorsNamingTheFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let jpeg = try Data(contentsOf: FixturePaths.packages.appendingPathComponent("scikit-image/skimage/data/rocket.jpg"))
        let png = try Data(contentsOf: FixturePaths.packages.appendingPathComponent("scikit-image/skimage/data/coins.png"))
        var corruptJPEG = jpeg
        for i in stride(from: 700, to: 1400, by: 1) { corruptJPEG[i] = 0xFF }   // smash the Huffman tables region
        var corruptPNG = png
        corruptPNG[40] ^= 0x5A                                                 // breaks a CRC
        let files: [(String, Data)] = [
            ("empty.jpg", Data()),
            ("notes.jpg", Data("just some text, not an image\n".utf8)),
            ("half.jpg", jpeg.prefix(jpeg.count / 2)),
            ("header-only.jpg", jpeg.prefix(300)),
            ("half.png", png.prefix(png.count / 2)),
            ("signature-only.png", png.prefix(8)),
            ("crc.png", corruptPNG),
            ("smashed.jpg", corruptJPEG),
            ("anim.gif", Data("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8)),
        ]
        for (name, bytes) in files { try bytes.write(to: dir.appendingPathComponent(name)) }

        func error(_ name: String) -> ImageError? {
            let url = dir.appendingPathComponent(name)
            do {
                _ = try decoder.decode(contentsOf: url)
                return nil
            } catch {
                XCTAssertEqual(error.file, url.path)
                XCTAssertTrue(error.description.hasPrefix(url.path), error.description)
                return error
            }
        }
        XCTAssertEqual(error("empty.jpg"), .empty(file: dir.appendingPathComponent("empty.jpg").path))
        guard case .unknownFormat = error("notes.jpg") else { return XCTFail("text file") }
        guard case .truncated(_, .jpeg, _) = error("half.jpg") else { return XCTFail("half JPEG") }
        guard case .truncated(_, .jpeg, _) = error("header-only.jpg") else { return XCTFail("JPEG header only: \(String(describing: error("header-only.jpg")))") }
        guard case .truncated(_, .png, _) = error("half.png") else { return XCTFail("half PNG") }
        guard case .truncated(_, .png, _) = error("signature-only.png") else { return XCTFail("PNG signature only") }
        guard case .corrupt(_, .png, _) = error("crc.png") else { return XCTFail("PNG CRC") }
        XCTAssertNotNil(error("smashed.jpg"))
        XCTAssertEqual(error("anim.gif"), .unsupportedFormat(file: dir.appendingPathComponent("anim.gif").path, format: "GIF"))
        XCTAssertEqual(error("missing.png"),
                       .unreadable(file: dir.appendingPathComponent("missing.png").path, reason: "no such file"))
        guard case .unreadable(_, "is a directory") = error("") else { return XCTFail("a directory") }
    }

    func testFormatIsDetectedFromBytesNotExtension() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = FixturePaths.packages.appendingPathComponent("scikit-image/skimage/data/chelsea.png")
        let renamed = dir.appendingPathComponent("really-a-png.jpg")
        try FileManager.default.copyItem(at: source, to: renamed)
        XCTAssertEqual(try decoder.decode(contentsOf: renamed), try decoder.decode(contentsOf: source))
    }

    func testExifParserSurvivesHostileSegments() {
        // Truncated, oversized and looping APP1 segments never trap and fall back to .up.
        let cases: [[UInt8]] = [
            [0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0x45, 0x78],
            [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10] + Array("Exif".utf8) + [0, 0, 0x4D, 0x4D, 0, 42, 0xFF, 0xFF, 0xFF, 0xF0],
            [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x12] + Array("Exif".utf8) + [0, 0, 0x49, 0x49, 42, 0, 8, 0, 0, 0, 0xFF, 0xFF],
            [0xFF, 0xD8, 0xFF, 0xFF, 0xFF],
            [0xFF, 0xD8],
        ]
        for bytes in cases {
            XCTAssertEqual(bytes.withUnsafeBytes { ExifOrientation.read(jpeg: $0) }, .up)
        }
    }
}

import CPNG

/// Reads a PNG as 8-bit RGBA via libpng (test helper, independent of PNGDecoder's alpha handling).
private func readRGBA(_ url: URL) -> [UInt8]? {
    guard let data = try? Data(contentsOf: url) else { return nil }
    return data.withUnsafeBytes { raw -> [UInt8]? in
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else { return nil }
        image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        var out = [UInt8](repeating: 0, count: Int(image.width * image.height) * 4)
        let ok = out.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        return ok != 0 ? out : nil
    }
}
