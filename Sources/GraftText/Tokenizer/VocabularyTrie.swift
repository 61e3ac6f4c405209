/// A byte trie over the vocabulary's UTF-8 tokens, so WordPiece's greedy longest-match-first
/// search is one walk per piece instead of one dictionary lookup per candidate length.
///
/// Transitions live in an open-addressing hash table keyed by (node, byte); each node may carry
/// the id of the token that ends there.
struct VocabularyTrie: Sendable {
    static let root: Int32 = 0
    private var keys: [UInt32]      // node << 8 | byte, or `empty`
    private var children: [Int32]
    private var shift: UInt32
    private(set) var tokenIDs: [Int32]   // per node, -1 when no token ends there
    private static let empty = UInt32.max

    /// Builds the trie; a token listed twice keeps its last id, as Hugging Face's `load_vocab` does.
    init<Tokens: Sequence>(tokens: Tokens) where Tokens.Element == (bytes: [UInt8], id: Int32) {
        var edges: [UInt32: Int32] = [:]
        var tokenIDs: [Int32] = [-1]
        for (bytes, id) in tokens {
            var node: Int32 = Self.root
            for b in bytes {
                let key = UInt32(node) << 8 | UInt32(b)
                if let next = edges[key] {
                    node = next
                } else {
                    let next = Int32(tokenIDs.count)
                    tokenIDs.append(-1)
                    edges[key] = next
                    node = next
                }
            }
            tokenIDs[Int(node)] = id
        }
        var bits: UInt32 = 4
        while (1 << bits) < edges.count * 2 { bits += 1 }
        var keys = [UInt32](repeating: Self.empty, count: 1 << bits)
        var children = [Int32](repeating: -1, count: 1 << bits)
        let mask = (1 << bits) - 1
        for (key, child) in edges {
            var slot = Int(Self.hash(key) >> (32 - bits))
            while keys[slot] != Self.empty { slot = (slot + 1) & mask }
            keys[slot] = key
            children[slot] = child
        }
        self.keys = keys
        self.children = children
        self.shift = 32 - bits
        self.tokenIDs = tokenIDs
    }

    @inline(__always) private static func hash(_ key: UInt32) -> UInt32 { key &* 0x9E37_79B1 }

    /// The child of `node` along `byte`, or -1.
    @inline(__always) func child(_ node: Int32, _ byte: UInt8) -> Int32 {
        let key = UInt32(node) << 8 | UInt32(byte)
        let mask = keys.count - 1
        var slot = Int(Self.hash(key) >> shift)
        while true {
            let k = keys[slot]
            if k == key { return children[slot] }
            if k == Self.empty { return -1 }
            slot = (slot + 1) & mask
        }
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
