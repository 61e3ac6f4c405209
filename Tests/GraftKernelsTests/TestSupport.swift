import XCTest

/// Deterministic uniform floats (SplitMix64) so failures reproduce.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [low, high).
    mutating func float(_ low: Float = -1, _ high: Float = 1) -> Float {
        low + (high - low) * Float(next() >> 40) / Float(1 << 24)
    }

    mutating func floats(_ count: Int, _ low: Float = -1, _ high: Float = 1) -> [Float] {
        (0..<count).map { _ in float(low, high) }
    }
}

/// Asserts |actual - expected| <= tolerance * max(1, |expected|) elementwise.
func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-4, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
    var worst = 0, worstError: Float = 0
    for i in 0..<min(actual.count, expected.count) {
        let error = abs(actual[i] - expected[i]) / max(1, abs(expected[i]))
        if !(error <= worstError) { worstError = error; worst = i }
    }
    XCTAssertLessThanOrEqual(worstError, tolerance,
                             "\(what): element \(worst) is \(actual[worst]), expected \(expected[worst])",
                             file: file, line: line)
}

/// An uninitialised-looking output buffer (filled with NaN so unwritten
/// elements fail the comparison).
func output(_ count: Int) -> [Float] { Array(repeating: .nan, count: count) }
