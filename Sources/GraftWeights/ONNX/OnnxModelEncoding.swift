import Foundation
import SwiftProtobuf

extension Onnx_ModelProto {
    /// The model's protobuf bytes (deterministic: fields in number order, as ONNX Runtime writes them).
    public func encoded() throws -> Data {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return try serializedBytes(options: options)
    }
}
