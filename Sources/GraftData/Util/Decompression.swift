import CBZ2
import CZlib
import Foundation

/// Whole-buffer gzip and bzip2 decompression through zlib and libbz2, chosen
/// by the leading bytes: gzip `1F 8B`, bzip2 `BZh`; anything else is returned as is.
public enum Decompression {
    enum Failure: Error { case failed(String) }

    /// Reads a file and decompresses it if it is gzip or bzip2.
    public static func contents(of url: URL) throws(DatasetError) -> Data {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw .unreadable(path: url.path, reason: ImageDecoder.whyUnreadable(url, error))
        }
        do {
            if data.starts(with: [0x1F, 0x8B]) { return try gunzip(data) }
            if data.starts(with: Array("BZh".utf8)) { return try bunzip2(data) }
            return data
        } catch let Failure.failed(reason) {
            throw .decompression(path: url.path, reason: reason)
        } catch {
            throw .decompression(path: url.path, reason: "\(error)")
        }
    }

    /// Inflates gzip data (all concatenated members).
    static func gunzip(_ data: Data) throws -> Data {
        var out = Data()
        out.reserveCapacity(data.count * 4)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            var stream = z_stream()
            // 16 + MAX_WBITS: expect a gzip header.
            guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw Failure.failed("zlib initialisation failed")
            }
            defer { inflateEnd(&stream) }
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { buf -> (Int32, Int) in
                    stream.next_out = buf.baseAddress
                    stream.avail_out = uInt(buf.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, buf.count - Int(stream.avail_out))
                }
                out.append(contentsOf: chunk[0..<produced])
                if status == Z_STREAM_END {
                    if stream.avail_in == 0 { return }
                    guard inflateReset(&stream) == Z_OK else { throw Failure.failed("cannot read next gzip member") }
                    continue
                }
                guard status == Z_OK else {
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw Failure.failed(message)
                }
                if stream.avail_in == 0 && produced == 0 { throw Failure.failed("gzip data ends early") }
            }
        }
        return out
    }

    /// Decompresses bzip2 data.
    static func bunzip2(_ data: Data) throws -> Data {
        var out = Data()
        out.reserveCapacity(data.count * 5)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            var stream = bz_stream()
            guard BZ2_bzDecompressInit(&stream, 0, 0) == BZ_OK else { throw Failure.failed("bzip2 initialisation failed") }
            defer { BZ2_bzDecompressEnd(&stream) }
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: CChar.self).baseAddress)
            stream.avail_in = UInt32(input.count)
            var chunk = [CChar](repeating: 0, count: 1 << 20)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { buf -> (Int32, Int) in
                    stream.next_out = buf.baseAddress
                    stream.avail_out = UInt32(buf.count)
                    let status = BZ2_bzDecompress(&stream)
                    return (status, buf.count - Int(stream.avail_out))
                }
                chunk.withUnsafeBytes { out.append(contentsOf: $0.prefix(produced)) }
                if status == BZ_STREAM_END { return }
                guard status == BZ_OK else { throw Failure.failed("bzip2 error \(status)") }
                if stream.avail_in == 0 && produced == 0 { throw Failure.failed("bzip2 data ends early") }
            }
        }
        return out
    }
}
