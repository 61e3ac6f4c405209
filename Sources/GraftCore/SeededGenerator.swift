#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Xoshiro256** (Blackman & Vigna), seeded through SplitMix64: a small, fast,
/// reproducible generator. Graft derives one generator per (seed, epoch, item),
/// so augmentation does not depend on which thread handles an item.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose stream depends only on `seed`.
    public init(seed: UInt64) {
        var sm = seed
        s0 = Self.splitMix(&sm); s1 = Self.splitMix(&sm); s2 = Self.splitMix(&sm); s3 = Self.splitMix(&sm)
    }

    /// An independent stream for item `index` of `epoch` under `seed`.
    public init(seed: UInt64, epoch: Int, index: Int) {
        var sm = seed
        let a = Self.splitMix(&sm)
        var se = a ^ UInt64(truncatingIfNeeded: epoch) &* 0xD1B5_4A32_D192_ED03
        let b = Self.splitMix(&se)
        var si = b ^ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15
        self.init(seed: Self.splitMix(&si))
    }

    /// The generator's position as text (four hex words), for checkpoints: `init(state:)` continues
    /// the stream exactly where this one is.
    public var state: String {
        [s0, s1, s2, s3].map { String($0, radix: 16) }.joined(separator: ":")
    }

    /// The generator at a position `state` wrote; nil when the text is not one.
    public init?(state: String) {
        let words = state.split(separator: ":").compactMap { UInt64($0, radix: 16) }
        guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
        (s0, s1, s2, s3) = (words[0], words[1], words[2], words[3])
    }

    /// SplitMix64 step: advances `state` and returns a well-mixed value.
    static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform Double in `[0, 1)` with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform integer in `0..<n` (`n > 0`) by multiply-high: bias below 2^-64 * n.
    public mutating func below(_ n: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(max(1, n))).high)
    }

    /// Fisher-Yates shuffle written out here (not `Array.shuffle(using:)`, whose
    /// algorithm the standard library may change), so orders are stable across toolchains.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, below(i + 1))
        }
    }

    /// Uniform Float in [0, 1) with 24 bits of precision.
    /// Advances the stream by `count` values, as `count` calls of `next()` (or `nextUniform()`) would.
    public mutating func discard(_ count: Int) {
        for _ in 0..<max(0, count) { _ = next() }
    }

    public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / Float(1 << 24)) }

    /// Standard normal by Box-Muller.
    public mutating func nextNormal() -> Float {
        let u1 = max(nextUnit(), 1e-300)
        let u2 = nextUnit()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// A uniform Double in `range`.
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * nextUnit()
    }
}
