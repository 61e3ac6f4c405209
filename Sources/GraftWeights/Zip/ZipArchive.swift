/// A minimal zip reader for the archives weights ship in (PyTorch's zip format, .npz):
/// it lists entries from the central directory (ZIP64 included) and hands out stored
/// (uncompressed) entries as zero-copy ranges of the file, after checking that every entry's
/// local header agrees with the central directory, lies inside the file and overlaps no other.
struct ZipArchive {
    struct Entry {
        let name: String
        /// 0 = stored, 8 = deflated.
        let method: UInt16
        let localHeaderOffset: Int
        let dataOffset: Int
        let compressedSize: Int
        let size: Int
        var dataRange: Range<Int> { dataOffset..<(dataOffset + compressedSize) }
    }

    let file: String
    let entries: [Entry]
    private let byName: [String: Int]

    static func looksLike(_ storage: ByteStorage) -> Bool {
        storage.count >= 4 && storage.buffer.starts(with: [0x50, 0x4B, 0x03, 0x04])
    }

    subscript(name: String) -> Entry? { byName[name].map { entries[$0] } }

    /// The range of a stored entry; deflated entries are refused by name.
    func storedRange(_ entry: Entry) throws -> Range<Int> {
        guard entry.method == 0 else {
            throw WeightsError.unsupported(file: file, context: "zip entry '\(entry.name)'",
                                           feature: "compression method \(entry.method) (only stored entries are read)")
        }
        return entry.dataRange
    }

    init(_ storage: ByteStorage, file: String) throws {
        self.file = file
        var r = ByteReader(storage, file: file)
        let eocd = try Self.findEndOfCentralDirectory(r)
        r.position = eocd + 10
        var total = Int(try r.u16("zip end of central directory"))
        var cdSize = Int(try r.u32("zip end of central directory"))
        var cdOffset = Int(try r.u32("zip end of central directory"))

        // ZIP64: a locator 20 bytes before the classic record points at the 64-bit record.
        if eocd >= 20, (try? Self.u32(r, at: eocd - 20)) == 0x0706_4B50 {
            r.position = eocd - 20 + 8
            let record = try r.u64("zip64 locator")
            guard record <= UInt64(eocd - 20) else {
                throw WeightsError.malformed(file: file, offset: eocd - 20, context: "zip64 locator", reason: "record offset \(record) is past the locator")
            }
            r.position = Int(record)
            guard try r.u32("zip64 end of central directory") == 0x0606_4B50 else {
                throw WeightsError.malformed(file: file, offset: Int(record), context: "zip64 end of central directory", reason: "bad signature")
            }
            r.position += 8 + 2 + 2 + 4 + 4 + 8
            let total64 = try r.u64("zip64 end of central directory")
            let size64 = try r.u64("zip64 end of central directory")
            let offset64 = try r.u64("zip64 end of central directory")
            guard total64 <= UInt64(storage.count), size64 <= UInt64(storage.count), offset64 <= UInt64(storage.count) else {
                throw WeightsError.sizeExceedsFile(file: file, context: "zip64 central directory", declared: max(size64, offset64, total64), available: storage.count)
            }
            total = Int(total64); cdSize = Int(size64); cdOffset = Int(offset64)
        }
        guard cdOffset <= eocd, cdSize <= eocd - cdOffset else {
            throw WeightsError.malformed(file: file, offset: eocd, context: "zip end of central directory",
                                         reason: "central directory [\(cdOffset), +\(cdSize)) is not before the end record")
        }
        // Each central entry takes at least 46 bytes: check before reserving.
        guard total <= cdSize / 46 else {
            throw WeightsError.sizeExceedsFile(file: file, context: "zip central directory (\(total) entries)", declared: UInt64(total) * 46, available: cdSize)
        }

        var entries: [Entry] = []
        entries.reserveCapacity(total)
        var cd = ByteReader(storage, file: file, range: cdOffset..<(cdOffset + cdSize))
        for _ in 0..<total {
            entries.append(try Self.readEntry(&cd, storage: storage, limit: cdOffset))
        }
        // Entries must not overlap: a size that runs into the next entry's header is wrong.
        let sorted = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.dataRange.upperBound > b.localHeaderOffset {
            throw WeightsError.malformed(file: file, offset: a.dataOffset, context: "zip entry '\(a.name)'",
                                         reason: "its \(a.compressedSize) bytes run into entry '\(b.name)' at offset \(b.localHeaderOffset)")
        }
        var byName: [String: Int] = [:]
        for (i, e) in entries.enumerated() {
            guard byName.updateValue(i, forKey: e.name) == nil else {
                throw WeightsError.malformed(file: file, offset: e.localHeaderOffset, context: "zip central directory", reason: "entry '\(e.name)' appears twice")
            }
        }
        self.entries = entries
        self.byName = byName
    }

    private static func u32(_ r: ByteReader, at offset: Int) throws -> UInt32 {
        var c = r
        c.position = offset
        return try c.u32("zip signature")
    }

    private static func findEndOfCentralDirectory(_ r: ByteReader) throws -> Int {
        let count = r.end
        guard count >= 22 else { throw WeightsError.truncated(file: r.file, offset: 0, needed: 22 - count, context: "zip end of central directory") }
        // The record is 22 bytes plus a comment of at most 65535 bytes.
        var p = count - 22
        let lowest = max(0, count - 22 - 65535)
        while p >= lowest {
            if r.byte(at: p) == 0x50, r.byte(at: p + 1) == 0x4B, r.byte(at: p + 2) == 0x05, r.byte(at: p + 3) == 0x06 { return p }
            p -= 1
        }
        throw WeightsError.malformed(file: r.file, offset: count, context: "zip archive", reason: "no end of central directory record")
    }

    private static func readEntry(_ cd: inout ByteReader, storage: ByteStorage, limit: Int) throws -> Entry {
        let file = cd.file
        let at = cd.position
        let ctx = "zip central directory entry"
        guard try cd.u32(ctx) == 0x0201_4B50 else { throw cd.malformed(ctx, "bad signature", at: at) }
        try cd.skip(4, ctx)
        let flags = try cd.u16(ctx)
        let method = try cd.u16(ctx)
        try cd.skip(8, ctx)
        var compressed = UInt64(try cd.u32(ctx))
        var size = UInt64(try cd.u32(ctx))
        let nameLength = Int(try cd.u16(ctx))
        let extraLength = Int(try cd.u16(ctx))
        let commentLength = Int(try cd.u16(ctx))
        try cd.skip(8, ctx)
        var local = UInt64(try cd.u32(ctx))
        let name = String(decoding: cd.bytes(try cd.take(nameLength, ctx)), as: UTF8.self)
        // ZIP64 extra field: 64-bit values for the fields saturated at 0xFFFFFFFF, in this order.
        var extra = ByteReader(storage, file: file, range: try cd.take(extraLength, ctx))
        while extra.remaining >= 4 {
            let id = try extra.u16("zip extra field"), length = Int(try extra.u16("zip extra field"))
            var field = ByteReader(storage, file: file, range: try extra.take(length, "zip extra field"))
            guard id == 1 else { continue }
            if size == 0xFFFF_FFFF { size = try field.u64("zip64 extra field") }
            if compressed == 0xFFFF_FFFF { compressed = try field.u64("zip64 extra field") }
            if local == 0xFFFF_FFFF { local = try field.u64("zip64 extra field") }
        }
        try cd.skip(commentLength, ctx)

        guard flags & 1 == 0 else { throw WeightsError.unsupported(file: file, context: "zip entry '\(name)'", feature: "encryption") }
        guard local < UInt64(limit) else {
            throw WeightsError.malformed(file: file, offset: at, context: "zip entry '\(name)'", reason: "local header offset \(local) is past the central directory")
        }
        var lr = ByteReader(storage, file: file, range: Int(local)..<limit)
        let lctx = "zip local header of '\(name)'"
        guard try lr.u32(lctx) == 0x0403_4B50 else { throw lr.malformed(lctx, "bad signature", at: Int(local)) }
        try lr.skip(4, lctx)
        let localMethod = try lr.u16(lctx)
        try lr.skip(8, lctx)
        let localCompressed = try lr.u32(lctx), localSize = try lr.u32(lctx)
        let localNameLength = Int(try lr.u16(lctx)), localExtraLength = Int(try lr.u16(lctx))
        let localName = lr.bytes(try lr.take(localNameLength, lctx))
        try lr.skip(localExtraLength, lctx)
        guard localName.elementsEqual(name.utf8) else { throw lr.malformed(lctx, "name differs from the central directory", at: Int(local)) }
        guard localMethod == method else { throw lr.malformed(lctx, "method \(localMethod) differs from the central directory's \(method)", at: Int(local)) }
        // Sizes may be deferred to a data descriptor (flag bit 3) or saturated for ZIP64; otherwise they must agree.
        if flags & 8 == 0, localCompressed != 0xFFFF_FFFF, localSize != 0xFFFF_FFFF,
           UInt64(localCompressed) != compressed || UInt64(localSize) != size {
            throw lr.malformed(lctx, "sizes \(localCompressed)/\(localSize) differ from the central directory's \(compressed)/\(size)", at: Int(local))
        }
        if method == 0, compressed != size {
            throw lr.malformed(lctx, "stored entry has compressed size \(compressed) but size \(size)", at: Int(local))
        }
        let dataOffset = lr.position
        guard compressed <= UInt64(limit - dataOffset) else {
            throw WeightsError.sizeExceedsFile(file: file, context: "zip entry '\(name)'", declared: compressed, available: limit - dataOffset)
        }
        guard size <= UInt64(Int.max / 2) else {
            throw WeightsError.sizeExceedsFile(file: file, context: "zip entry '\(name)' (uncompressed)", declared: size, available: storage.count)
        }
        return Entry(name: name, method: method, localHeaderOffset: Int(local), dataOffset: dataOffset,
                     compressedSize: Int(compressed), size: Int(size))
    }
}
