/// MurmurHash64A (Austin Appleby), the 64-bit hash spaCy keys its vocabulary with:
/// `spacy.strings.hash_string(word)` is `MurmurHash64A(utf8(word), seed: 1)`.
public func murmurHash64A(_ bytes: some Collection<UInt8>, seed: UInt64 = 1) -> UInt64 {
    let m: UInt64 = 0xC6A4_A793_5BD1_E995
    let r: UInt64 = 47
    let data = Array(bytes)
    let n = data.count
    var h = seed ^ (UInt64(n) &* m)
    var i = 0
    while i + 8 <= n {
        var k: UInt64 = 0
        for j in 0..<8 { k |= UInt64(data[i + j]) << (8 * UInt64(j)) }
        k &*= m
        k ^= k >> r
        k &*= m
        h ^= k
        h &*= m
        i += 8
    }
    let tail = n & 7
    if tail > 0 {
        for j in stride(from: tail - 1, through: 0, by: -1) { h ^= UInt64(data[i + j]) << (8 * UInt64(j)) }
        h &*= m
    }
    h ^= h >> r
    h &*= m
    h ^= h >> r
    return h
}

/// The key spaCy stores for `word`.
public func spacyKey(_ word: String) -> UInt64 { murmurHash64A(word.utf8, seed: 1) }
