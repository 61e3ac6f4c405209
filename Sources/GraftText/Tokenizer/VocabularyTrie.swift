/// A byte trie over the vocabulary's UTF-8 tokens, so WordPiece's greedy longest-match-first
/// search is one walk per piece instead of one dictionary lookup per candidate length.
///
/// Transitions live in an open-addressing hash table keyed by (node, byte), key and child packed
/// in one 64-bit slot so a probe touches one cache line; each node may carry the id of the token
/// that ends there.
struct VocabularyTrie: Sendable {
    static let root: Int32 = 0
    private var slots: [UInt64]     // (node << 8 | byte) << 32 | child, or `empty`
    private var shift: UInt32
    private(set) var tokenIDs: [Int32]   // per node, -1 when no token ends there
    private static let empty = UInt64.max

    /// Builds the trie over `tokens` (the id is the index); a token listed twice keeps its last
    /// id, as Hugging Face's `load_vocab` does.
    init(tokens: [[UInt8]]) {
        // Build in a table large enough for every byte of every token, then pack it tightly.
        let totalBytes = tokens.reduce(0) { $0 + $1.count }
        var build = Self.emptySlots(for: totalBytes)
        var tokenIDs: [Int32] = [-1]
        tokenIDs.reserveCapacity(totalBytes + 1)
        var edges = 0
        for (id, bytes) in tokens.enumerated() {
            var node: Int32 = Self.root
            for b in bytes {
                let key = UInt32(node) << 8 | UInt32(b)
                let found = Self.find(key, in: build.slots, shift: build.shift)
                if found.child >= 0 {
                    node = found.child
                } else {
                    node = Int32(tokenIDs.count)
                    tokenIDs.append(-1)
                    build.slots[found.slot] = Self.pack(key, node)
                    edges += 1
                }
            }
            tokenIDs[Int(node)] = Int32(id)
        }
        var packed = Self.emptySlots(for: edges)
        let mask = packed.slots.count - 1
        for entry in build.slots where entry != Self.empty {
            var slot = Int(Self.hash(UInt32(truncatingIfNeeded: entry >> 32)) >> packed.shift)
            while packed.slots[slot] != Self.empty { slot = (slot + 1) & mask }
            packed.slots[slot] = entry
        }
        self.slots = packed.slots
        self.shift = packed.shift
        self.tokenIDs = tokenIDs
    }

    /// A power-of-two table at most half full for `count` entries.
    private static func emptySlots(for count: Int) -> (slots: [UInt64], shift: UInt32) {
        var bits: UInt32 = 4
        while (1 << bits) < count * 2 { bits += 1 }
        return ([UInt64](repeating: empty, count: 1 << bits), 32 - bits)
    }

    @inline(__always) private static func pack(_ key: UInt32, _ child: Int32) -> UInt64 {
        UInt64(key) << 32 | UInt64(UInt32(bitPattern: child))
    }

    /// The child stored under `key`, or -1 and the free slot where it would go.
    @inline(__always)
    private static func find(_ key: UInt32, in slots: [UInt64], shift: UInt32) -> (child: Int32, slot: Int) {
        let mask = slots.count - 1
        var slot = Int(hash(key) >> shift)
        while true {
            let entry = slots[slot]
            if entry == empty { return (-1, slot) }
            if UInt32(truncatingIfNeeded: entry >> 32) == key { return (Int32(bitPattern: UInt32(truncatingIfNeeded: entry)), slot) }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always) private static func hash(_ key: UInt32) -> UInt32 { key &* 0x9E37_79B1 }

    /// The child of `node` along `byte`, or -1.
    @inline(__always) func child(_ node: Int32, _ byte: UInt8) -> Int32 {
        Self.find(UInt32(node) << 8 | UInt32(byte), in: slots, shift: shift).child
    }

    /// The node reached by walking `bytes` from the root, or -1.
    func node(for bytes: some Sequence<UInt8>) -> Int32 {
        var node = Self.root
        for b in bytes {
            node = child(node, b)
            if node < 0 { return -1 }
        }
        return node
    }
}
