import CZlib
import Foundation
import GraftData

/// Writes 8-bit RGB images as PNG files: signature, IHDR, one zlib-compressed
/// IDAT, IEND. Enough for report thumbnails; no palette, alpha or interlace.
public enum PNGEncoder {
    /// The PNG file of `image`; nil only when zlib cannot allocate its buffers.
    /// Every scanline uses the Sub filter (differences from the left
    /// neighbour), which compresses photos and flat areas alike.
    public static func encode(_ image: RGBImage) -> Data? {
        let stride = image.width * 3
        var raw = [UInt8](repeating: 0, count: (stride + 1) * image.height)
        image.pixels.withUnsafeBufferPointer { src in
            raw.withUnsafeMutableBufferPointer { dst in
                for y in 0..<image.height {
                    let s = y * stride, d = y * (stride + 1)
                    dst[d] = 1  // filter type Sub
                    for x in 0..<stride {
                        dst[d + 1 + x] = x < 3 ? src[s + x] : src[s + x] &- src[s + x - 3]
                    }
                }
            }
        }
        var out = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = Data()
        header.appendBigEndian(UInt32(image.width))
        header.appendBigEndian(UInt32(image.height))
        header.append(contentsOf: [8, 2, 0, 0, 0])  // 8 bits, truecolour, deflate, no filter set, no interlace
        appendChunk("IHDR", header, to: &out)
        guard let compressed = deflate(raw) else { return nil }
        appendChunk("IDAT", compressed, to: &out)
        appendChunk("IEND", Data(), to: &out)
        return out
    }

    /// zlib stream of `bytes` (compress2 at level 6).
    static func deflate(_ bytes: [UInt8]) -> Data? {
        var capacity = compressBound(uLong(bytes.count))
        var buffer = [UInt8](repeating: 0, count: Int(capacity))
        let status = bytes.withUnsafeBufferPointer { src in
            buffer.withUnsafeMutableBufferPointer { dst in
                compress2(dst.baseAddress, &capacity, src.baseAddress, uLong(src.count), 6)
            }
        }
        // compressBound guarantees room; only an allocation failure is left.
        return status == Z_OK ? Data(buffer.prefix(Int(capacity))) : nil
    }

    static func appendChunk(_ type: String, _ body: Data, to out: inout Data) {
        out.appendBigEndian(UInt32(body.count))
        var typed = Data(type.utf8)
        typed.append(body)
        out.append(typed)
        let crc = typed.withUnsafeBytes { raw in
            crc32(crc32(0, nil, 0), raw.bindMemory(to: Bytef.self).baseAddress, uInt(raw.count))
        }
        out.appendBigEndian(UInt32(truncatingIfNeeded: crc))
    }
}

extension Data {
    fileprivate mutating func appendBigEndian(_ v: UInt32) {
        append(contentsOf: [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }
}
