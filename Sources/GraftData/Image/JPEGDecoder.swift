import CTurboJPEG

/// JPEG decoding through libjpeg-turbo's TurboJPEG API: accurate integer DCT
/// and fancy upsampling (the library defaults, the same settings PIL uses), so
/// pixels equal PIL's when both link the same libjpeg-turbo release.
enum JPEGDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws(ImageError) -> RGBImage {
        guard let handle = tjInitDecompress() else {
            throw .corrupt(file: file, format: .jpeg, reason: "cannot create a TurboJPEG decompressor")
        }
        defer { tjDestroy(handle) }
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)   // non-empty: checked by the caller
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        if tjDecompressHeader3(handle, base, UInt(bytes.count), &width, &height, &subsampling, &colorspace) != 0 {
            throw failure(handle, bytes, file: file)
        }
        guard width > 0, height > 0 else {
            // libjpeg's memory source pads missing data with an end marker, so a file cut
            // before its frame header "succeeds" with an empty size.
            throw endsWithEOI(bytes)
                ? .corrupt(file: file, format: .jpeg, reason: "header gives size \(width)x\(height)")
                : .truncated(file: file, format: .jpeg, reason: "data ends before the frame header")
        }
        let w = Int(width), h = Int(height)
        guard w * h <= ImageDecoder.maxPixels else { throw .tooLarge(file: file, width: w, height: h) }

        let isCMYK = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        let channels = isCMYK ? 4 : 3
        let format = isCMYK ? TJPF_CMYK : TJPF_RGB
        var raw = [UInt8](repeating: 0, count: w * h * channels)
        let status = raw.withUnsafeMutableBufferPointer { out in
            tjDecompress2(handle, base, UInt(bytes.count), out.baseAddress, width, 0, height,
                          Int32(format.rawValue), 0)
        }
        if status != 0 {
            // Warnings (e.g. extraneous bytes before a marker) leave a complete image; PIL
            // accepts those too. Running out of data is a warning in libjpeg but an error here.
            let message = errorText(handle)
            if tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) || message.contains("Premature end") {
                throw failure(handle, bytes, file: file)
            }
        }
        let rgb = isCMYK ? cmykToRGB(raw) : raw
        return RGBImage(uncheckedWidth: w, height: h, pixels: rgb)
    }

    /// Adobe-convention (inverted) CMYK to RGB with PIL's arithmetic
    /// (`JpegImagePlugin` reads "CMYK;I", then `cmyk2rgb`): R = K' - K'(1 - C')/255.
    private static func cmykToRGB(_ cmyk: [UInt8]) -> [UInt8] {
        let n = cmyk.count / 4
        var rgb = [UInt8](repeating: 0, count: n * 3)
        @inline(__always) func muldiv255(_ a: Int, _ b: Int) -> Int {
            let t = a * b + 128
            return (t + (t >> 8)) >> 8
        }
        for i in 0..<n {
            let k = Int(cmyk[4 * i + 3])   // stored inverted: this is 255 - K
            for c in 0..<3 {
                let v = k - muldiv255(255 - Int(cmyk[4 * i + c]), k)
                rgb[3 * i + c] = UInt8(clamping: v)
            }
        }
        return rgb
    }

    private static func errorText(_ handle: tjhandle) -> String {
        guard let cString = tjGetErrorStr2(handle) else { return "unknown error" }
        return String(cString: cString)
    }

    /// A JPEG ends with the EOI marker FF D9; without it, running out of data is the likely cause.
    private static func endsWithEOI(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[bytes.count - 2] == 0xFF && bytes[bytes.count - 1] == 0xD9
    }

    private static func failure(_ handle: tjhandle, _ bytes: UnsafeRawBufferPointer, file: String) -> ImageError {
        let message = errorText(handle)
        if message.contains("Premature end") || !endsWithEOI(bytes) {
            return .truncated(file: file, format: .jpeg, reason: message)
        }
        return .corrupt(file: file, format: .jpeg, reason: message)
    }
}
