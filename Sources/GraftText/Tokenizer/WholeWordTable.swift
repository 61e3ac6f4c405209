import Foundation

/// Word-initial vocabulary tokens by the FNV-1a hash of their UTF-8 bytes, so the common case of
/// WordPiece - a whole word that is itself a token - costs one probe instead of a trie walk.
struct WholeWordTable: Sendable {
    private var slots: [UInt64]       // hash << 32 | id, or `empty`
    private var pool: [UInt8]         // token bytes, back to back
    private var offsets: [Int32]      // by id: start in `pool`; length = next start - start
    private var shift: UInt32
    private static let empty = UInt64.max

    static let fnvBasis: UInt32 = 0x811C_9DC5
    @inline(__always) static func fnv(_ hash: UInt32, _ byte: UInt8) -> UInt32 {
        (hash ^ UInt32(byte)) &* 0x0100_0193
    }

    /// `tokens` by id; `##` continuation pieces are left out. A repeated token keeps its last id.
    init(tokens: [[UInt8]]) {
        var pool: [UInt8] = []
        var offsets: [Int32] = []
        offsets.reserveCapacity(tokens.count + 1)
        for t in tokens {
            offsets.append(Int32(pool.count))
            pool.append(contentsOf: t)
        }
        offsets.append(Int32(pool.count))
        var bits: UInt32 = 4
        while (1 << bits) < tokens.count * 2 { bits += 1 }
        var slots = [UInt64](repeating: Self.empty, count: 1 << bits)
        let mask = (1 << bits) - 1
        self.pool = pool
        self.offsets = offsets
        self.shift = 32 - bits
        for (id, t) in tokens.enumerated() where !(t.count >= 2 && t[0] == 0x23 && t[1] == 0x23) {
            let h = t.reduce(Self.fnvBasis, Self.fnv)
            var slot = Int(Self.mix(h) >> shift)
            while slots[slot] != Self.empty {
                let entry = slots[slot]
                if UInt32(truncatingIfNeeded: entry >> 32) == h, Self.equal(t, pool, offsets, Int(UInt32(truncatingIfNeeded: entry))) {
                    break   // repeated token: overwrite with the later id
                }
                slot = (slot + 1) & mask
            }
            slots[slot] = UInt64(h) << 32 | UInt64(id)
        }
        self.slots = slots
    }

    private static func equal(_ t: [UInt8], _ pool: [UInt8], _ offsets: [Int32], _ id: Int) -> Bool {
        let start = Int(offsets[id]), end = Int(offsets[id + 1])
        return end - start == t.count && pool[start..<end].elementsEqual(t)
    }

    @inline(__always) private static func mix(_ h: UInt32) -> UInt32 { h &* 0x9E37_79B1 }

    /// The id of the token spelled by `word` (whose FNV-1a hash is `hash`), or -1.
    @inline(__always) func id(of word: UnsafeBufferPointer<UInt8>, hash: UInt32) -> Int32 {
        let mask = slots.count - 1
        var slot = Int(Self.mix(hash) >> shift)
        while true {
            let entry = slots[slot]
            if entry == Self.empty { return -1 }
            if UInt32(truncatingIfNeeded: entry >> 32) == hash {
                let id = Int(UInt32(truncatingIfNeeded: entry))
                let start = Int(offsets[id]), length = Int(offsets[id + 1]) - start
                if length == word.count && pool.withUnsafeBufferPointer({ p in
                    memcmp(p.baseAddress! + start, word.baseAddress!, length) == 0
                }) {
                    return Int32(id)
                }
            }
            slot = (slot + 1) & mask
        }
    }
}
