/// A dense, row-major matrix of Float features: one row per example, one column per feature.
public struct FeatureMatrix: Sendable, Equatable {
    /// Number of examples.
    public let rows: Int
    /// Number of features per example.
    public let columns: Int
    /// `rows * columns` values, row by row.
    public private(set) var values: [Float]

    /// Wraps `values` (row-major) as a `rows x columns` matrix.
    public init(rows: Int, columns: Int, values: [Float]) throws(HeadsError) {
        guard rows >= 0, columns >= 0, rows.multipliedReportingOverflow(by: columns).partialValue == values.count
        else { throw .shapeMismatch(what: "FeatureMatrix values", expected: [rows, columns], got: [values.count]) }
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// Builds a matrix from equally long rows.
    public init(_ rowArrays: [[Float]]) throws(HeadsError) {
        let columns = rowArrays.first?.count ?? 0
        var values = [Float]()
        values.reserveCapacity(rowArrays.count * columns)
        for (i, row) in rowArrays.enumerated() {
            guard row.count == columns else {
                throw .shapeMismatch(what: "FeatureMatrix row \(i)", expected: [columns], got: [row.count])
            }
            values += row
        }
        try self.init(rows: rowArrays.count, columns: columns, values: values)
    }

    /// A zero-filled matrix.
    public init(zerosRows rows: Int, columns: Int) {
        self.rows = max(rows, 0)
        self.columns = max(columns, 0)
        self.values = [Float](repeating: 0, count: self.rows * self.columns)
    }

    /// The value at `row`, `column`.
    public subscript(row: Int, column: Int) -> Float {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// The values of one row.
    public func row(_ index: Int) -> ArraySlice<Float> {
        values[index * columns ..< (index + 1) * columns]
    }

    /// A new matrix holding the given rows, in the given order.
    public func selectingRows(_ indices: [Int]) throws(HeadsError) -> FeatureMatrix {
        var out = [Float](repeating: 0, count: indices.count * columns)
        for (r, i) in indices.enumerated() {
            guard i >= 0, i < rows else {
                throw .shapeMismatch(what: "row index \(i)", expected: [rows], got: [i])
            }
            for j in 0..<columns { out[r * columns + j] = values[i * columns + j] }
        }
        return try FeatureMatrix(rows: indices.count, columns: columns, values: out)
    }

    /// Gives mutable access to the values in place (the shape cannot change).
    public mutating func withUnsafeMutableValues<R, E: Error>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws(E) -> R
    ) throws(E) -> R {
        try values.withUnsafeMutableBufferPointer { (v) throws(E) -> R in try body(v) }
    }

    /// The first non-finite value, if any, as (row, column).
    public func firstNonFinite() -> (row: Int, column: Int)? {
        values.withUnsafeBufferPointer { v in
            for i in 0..<v.count where !v[i].isFinite { return (i / max(columns, 1), i % max(columns, 1)) }
            return nil
        }
    }
}
