/// A small gzip/DEFLATE decoder (after Mark Adler's puff.c) so tests can read sklearn's
/// `digits.csv.gz` without a zlib dependency.
enum Gunzip {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        guard bytes.count > 18, bytes[0] == 0x1f, bytes[1] == 0x8b, bytes[2] == 8 else {
            throw Failure(description: "not a gzip stream")
        }
        let flags = bytes[3]
        var position = 10
        if flags & 4 != 0 { position += 2 + Int(bytes[position]) + Int(bytes[position + 1]) << 8 }
        if flags & 8 != 0 { while position < bytes.count, bytes[position] != 0 { position += 1 }; position += 1 }
        if flags & 16 != 0 { while position < bytes.count, bytes[position] != 0 { position += 1 }; position += 1 }
        if flags & 2 != 0 { position += 2 }
        var inflater = Inflater(bytes: bytes, position: position)
        return try inflater.run()
    }

    private struct Huffman {
        var count = [Int](repeating: 0, count: 16)
        var symbol: [Int]

        init(lengths: [Int]) {
            symbol = [Int](repeating: 0, count: lengths.count)
            for l in lengths { count[l] += 1 }
            var offsets = [Int](repeating: 0, count: 16)
            for l in 1..<15 { offsets[l + 1] = offsets[l] + count[l] }
            for (s, l) in lengths.enumerated() where l != 0 {
                symbol[offsets[l]] = s
                offsets[l] += 1
            }
        }
    }

    private struct Inflater {
        let bytes: [UInt8]
        var position: Int
        var bitBuffer = 0, bitCount = 0
        var out = [UInt8]()

        static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                 67, 83, 99, 115, 131, 163, 195, 227, 258]
        static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                   1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
        static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10,
                                    11, 11, 12, 12, 13, 13]

        init(bytes: [UInt8], position: Int) {
            self.bytes = bytes
            self.position = position
        }

        mutating func bits(_ n: Int) throws -> Int {
            while bitCount < n {
                guard position < bytes.count else { throw Failure(description: "truncated deflate stream") }
                bitBuffer |= Int(bytes[position]) << bitCount
                position += 1
                bitCount += 8
            }
            let value = bitBuffer & ((1 << n) - 1)
            bitBuffer >>= n
            bitCount -= n
            return value
        }

        mutating func decode(_ h: Huffman) throws -> Int {
            var code = 0, first = 0, index = 0
            for length in 1...15 {
                code |= try bits(1)
                let count = h.count[length]
                if code - count < first { return h.symbol[index + (code - first)] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw Failure(description: "bad Huffman code")
        }

        mutating func run() throws -> [UInt8] {
            var last = false
            while !last {
                last = try bits(1) == 1
                switch try bits(2) {
                case 0:
                    bitBuffer = 0
                    bitCount = 0
                    guard position + 4 <= bytes.count else { throw Failure(description: "truncated stored block") }
                    let length = Int(bytes[position]) | Int(bytes[position + 1]) << 8
                    position += 4
                    guard position + length <= bytes.count else { throw Failure(description: "truncated stored block") }
                    out += bytes[position ..< position + length]
                    position += length
                case 1:
                    let lengths = [Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112)
                        + [Int](repeating: 7, count: 24) + [Int](repeating: 8, count: 8)
                    try codes(Huffman(lengths: lengths), Huffman(lengths: [Int](repeating: 5, count: 30)))
                case 2:
                    let (literals, distances) = try dynamicTables()
                    try codes(literals, distances)
                default:
                    throw Failure(description: "bad block type")
                }
            }
            return out
        }

        mutating func dynamicTables() throws -> (Huffman, Huffman) {
            let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
            let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
            var codeLengths = [Int](repeating: 0, count: 19)
            for i in 0..<ncode { codeLengths[order[i]] = try bits(3) }
            let lengthCode = Huffman(lengths: codeLengths)
            var lengths = [Int]()
            while lengths.count < nlen + ndist {
                let symbol = try decode(lengthCode)
                switch symbol {
                case 0..<16: lengths.append(symbol)
                case 16:
                    guard let previous = lengths.last else { throw Failure(description: "repeat with no length") }
                    lengths += [Int](repeating: previous, count: 3 + (try bits(2)))
                case 17: lengths += [Int](repeating: 0, count: 3 + (try bits(3)))
                default: lengths += [Int](repeating: 0, count: 11 + (try bits(7)))
                }
            }
            return (Huffman(lengths: Array(lengths[0..<nlen])), Huffman(lengths: Array(lengths[nlen ..< nlen + ndist])))
        }

        mutating func codes(_ literals: Huffman, _ distances: Huffman) throws {
            while true {
                let symbol = try decode(literals)
                if symbol < 256 { out.append(UInt8(symbol)); continue }
                if symbol == 256 { return }
                let l = symbol - 257
                guard l < 29 else { throw Failure(description: "bad length symbol") }
                let length = Self.lengthBase[l] + (try bits(Self.lengthExtra[l]))
                let d = try decode(distances)
                guard d < 30 else { throw Failure(description: "bad distance symbol") }
                let distance = Self.distanceBase[d] + (try bits(Self.distanceExtra[d]))
                guard distance <= out.count else { throw Failure(description: "distance too far back") }
                let start = out.count - distance
                for i in 0..<length { out.append(out[start + i]) }
            }
        }
    }
}
