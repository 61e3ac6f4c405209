/// What is wrong with a weights file, naming the file and the key, offset or line involved.
///
/// Every reader in GraftWeights reports bad input through this type; none of them traps,
/// and declared sizes are checked against the file before anything is allocated.
public enum WeightsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened, mapped or read.
    case cannotRead(file: String, reason: String)
    /// The file could not be written or moved into place.
    case cannotWrite(file: String, reason: String)
    /// No supported format was recognised.
    case unknownFormat(file: String, reason: String)
    /// The data ends before a structure it declares: `needed` bytes at `offset`.
    case truncated(file: String, offset: Int, needed: Int, context: String)
    /// A structural rule of the format is broken at `offset`.
    case malformed(file: String, offset: Int, context: String, reason: String)
    /// A declared length or count exceeds what the file can hold; refused before allocating.
    case sizeExceedsFile(file: String, context: String, declared: UInt64, available: Int)
    /// A tensor's record is inconsistent (dtype, shape, byte range, strides).
    case invalidTensor(file: String, tensor: String, reason: String)
    /// A pickle referenced a global outside the whitelist. Nothing was executed.
    case disallowedGlobal(file: String, offset: Int, global: String)
    /// A pickle opcode this reader does not implement.
    case unsupportedOpcode(file: String, offset: Int, opcode: UInt8)
    /// A legitimate feature of the format that GraftWeights does not read.
    case unsupported(file: String, context: String, feature: String)
    /// Two tensors share one name.
    case duplicateName(file: String, name: String)

    public var description: String {
        switch self {
        case let .cannotRead(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .cannotWrite(file, reason):
            return "\(file): cannot write: \(reason)"
        case let .unknownFormat(file, reason):
            return "\(file): unknown weights format: \(reason)"
        case let .truncated(file, offset, needed, context):
            return "\(file): truncated at offset \(offset): \(context) needs \(needed) more bytes"
        case let .malformed(file, offset, context, reason):
            return "\(file): malformed \(context) at offset \(offset): \(reason)"
        case let .sizeExceedsFile(file, context, declared, available):
            return "\(file): \(context) declares \(declared) bytes but only \(available) are available"
        case let .invalidTensor(file, tensor, reason):
            return "\(file): tensor '\(tensor)': \(reason)"
        case let .disallowedGlobal(file, offset, global):
            return "\(file): pickle at offset \(offset) references '\(global)', which is not on the whitelist (nothing was executed)"
        case let .unsupportedOpcode(file, offset, opcode):
            return "\(file): unsupported pickle opcode 0x\(String(opcode, radix: 16)) at offset \(offset)"
        case let .unsupported(file, context, feature):
            return "\(file): \(context): \(feature) is not supported"
        case let .duplicateName(file, name):
            return "\(file): two tensors are named '\(name)'"
        }
    }
}
