import Foundation

/// Minimal `.npy` reader for the benchmark's little-endian float32 / int32 C-order arrays.
enum Npy {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func read(_ path: String) throws -> (shape: [Int], descr: String, payload: Data) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        guard data.count > 10, data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)) else {
            throw Failure(description: "\(path): not a .npy file")
        }
        let major = data[6]
        let headerLength: Int, start: Int
        if major == 1 {
            headerLength = Int(data[8]) | Int(data[9]) << 8
            start = 10
        } else {
            headerLength = (0..<4).reduce(0) { $0 | Int(data[8 + $1]) << (8 * $1) }
            start = 12
        }
        guard let header = String(data: data[start ..< start + headerLength], encoding: .ascii) else {
            throw Failure(description: "\(path): unreadable header")
        }
        guard !header.contains("'fortran_order': True"),
              let descrRange = header.range(of: "'descr': '"),
              let shapeOpen = header.range(of: "'shape': ("),
              let shapeClose = header[shapeOpen.upperBound...].firstIndex(of: ")")
        else { throw Failure(description: "\(path): unsupported header \(header)") }
        let descr = String(header[descrRange.upperBound...].prefix(3))
        let shape = header[shapeOpen.upperBound ..< shapeClose].split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return (shape, descr, data.subdata(in: start + headerLength ..< data.count))
    }

    static func floats(_ path: String) throws -> (rows: Int, columns: Int, values: [Float]) {
        let (shape, descr, payload) = try read(path)
        guard descr == "<f4", shape.count == 2 else { throw Failure(description: "\(path): want 2-d <f4, got \(descr) \(shape)") }
        var values = [Float](repeating: 0, count: shape[0] * shape[1])
        _ = values.withUnsafeMutableBytes { payload.copyBytes(to: $0) }
        return (shape[0], shape[1], values)
    }

    static func ints(_ path: String) throws -> [Int] {
        let (shape, descr, payload) = try read(path)
        guard descr == "<i4", shape.count == 1 else { throw Failure(description: "\(path): want 1-d <i4, got \(descr) \(shape)") }
        var values = [Int32](repeating: 0, count: shape[0])
        _ = values.withUnsafeMutableBytes { payload.copyBytes(to: $0) }
        return values.map { Int($0) }
    }
}
