import CPNG

/// PNG decoding through libpng's simplified API (`png_image_*`). It reports
/// errors in `png_image.message` instead of longjmp-ing through Swift frames,
/// which the classic API would do.
///
/// Conversions: grey, grey+alpha, palette (with or without tRNS), RGB and RGBA
/// at 1 to 16 bits all become 8-bit RGB(A). 16-bit samples are read as sRGB
/// (`PNG_IMAGE_FLAG_16BIT_sRGB`, as PIL does) and scaled with rounding
/// (v * 255 / 65535), where PIL keeps the high byte: they can differ by 1.
enum PNGDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, file: String,
                       alpha: AlphaHandling) throws(ImageError) -> RGBImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count) != 0 else {
            throw failure(&image, file: file)
        }
        defer { png_image_free(&image) }
        let w = Int(image.width), h = Int(image.height)
        guard w > 0, h > 0 else { throw .corrupt(file: file, format: .png, reason: "size \(w)x\(h)") }
        guard w * h <= ImageDecoder.maxPixels else { throw .tooLarge(file: file, width: w, height: h) }

        let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        // Ask for RGBA only when there is alpha to handle; plain RGB otherwise.
        let rgb = UInt32(PNG_FORMAT_FLAG_COLOR)
        image.format = hasAlpha ? rgb | UInt32(PNG_FORMAT_FLAG_ALPHA) : rgb
        let channels = hasAlpha ? 4 : 3
        var buffer = [UInt8](repeating: 0, count: w * h * channels)
        let ok = buffer.withUnsafeMutableBytes { out in
            png_image_finish_read(&image, nil, out.baseAddress, Int32(w * channels), nil)
        }
        guard ok != 0 else { throw failure(&image, file: file) }
        let pixels = hasAlpha ? alpha.flatten(rgba: buffer) : buffer
        return RGBImage(uncheckedWidth: w, height: h, pixels: pixels)
    }

    private static func failure(_ image: inout png_image, file: String) -> ImageError {
        let message = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        // libpng's memory reader says "read beyond end of data" when bytes run out;
        // a stream that stops mid-IDAT gives "Not enough image data".
        if message.contains("end of data") || message.contains("Not enough image data")
            || message.contains("Read Error") {
            return .truncated(file: file, format: .png, reason: message)
        }
        return .corrupt(file: file, format: .png, reason: message.isEmpty ? "libpng error" : message)
    }
}
