import Foundation
import XCTest
import GraftWeights

/// Parsing ONNX graphs with the generated protobuf code, and the typed errors of hostile files.
final class OnnxGraphTests: XCTestCase {
    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "") -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op; n.input = inputs; n.output = outputs; n.name = name
        return n
    }

    static func valueInfo(_ name: String, _ dims: [Int64]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var t = Onnx_TypeProto.Tensor()
        t.elemType = 1
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in var x = Onnx_TensorShapeProto.Dimension(); x.dimValue = d; return x }
        t.shape = shape
        v.type.tensorType = t
        return v
    }

    static func model(_ nodes: [Onnx_NodeProto], inputs: [String] = ["x"], outputs: [String],
                      initializers: [Onnx_TensorProto] = []) throws -> Data {
        var g = Onnx_GraphProto()
        g.node = nodes
        g.input = inputs.map { valueInfo($0, [1, 4]) }
        g.output = outputs.map { valueInfo($0, [1, 4]) }
        g.initializer = initializers
        var m = Onnx_ModelProto()
        m.irVersion = 8
        var op = Onnx_OperatorSetIdProto(); op.version = 17
        m.opsetImport = [op]
        m.graph = g
        return try m.serializedBytes()
    }

    func parse(_ data: Data) throws -> OnnxGraph { try OnnxGraph(serializedBytes: data, file: "m.onnx") }

    func error(_ data: Data, _ what: String) -> OnnxError? {
        do { _ = try parse(data); XCTFail("\(what): parsed"); return nil } catch let e as OnnxError { return e } catch {
            XCTFail("\(what): untyped \(error)"); return nil
        }
    }

    func testParsesAndOrdersNodesTopologically() throws {
        // Nodes listed consumer first: the parser must order them.
        let data = try Self.model([Self.node("Relu", ["a"], ["y"], name: "second"), Self.node("Neg", ["x"], ["a"], name: "first")], outputs: ["y"])
        let g = try parse(data)
        XCTAssertEqual(g.nodes.map(\.name), ["first", "second"])
        XCTAssertEqual(g.inputs.map(\.name), ["x"])
        XCTAssertEqual(g.inputs[0].dims, [1, 4])
        XCTAssertEqual(g.opsetVersion, 17)
    }

    func testCycleNamesItsNodes() throws {
        let data = try Self.model([Self.node("Add", ["x", "c"], ["b"], name: "A"), Self.node("Relu", ["b"], ["c"], name: "B")], outputs: ["c"])
        XCTAssertEqual(error(data, "cycle"), .cycle(file: "m.onnx", nodes: ["A", "B"]))
    }

    func testDanglingInputNamesNodeAndValue() throws {
        let data = try Self.model([Self.node("Add", ["x", "nowhere"], ["y"], name: "adder")], outputs: ["y"])
        XCTAssertEqual(error(data, "dangling"), .danglingInput(file: "m.onnx", node: "adder", input: "nowhere"))
    }

    func testMissingAndDuplicateOutputs() throws {
        XCTAssertEqual(error(try Self.model([Self.node("Relu", ["x"], ["y"])], outputs: ["z"]), "missing"),
                       .missingOutput(file: "m.onnx", output: "z"))
        XCTAssertEqual(error(try Self.model([Self.node("Relu", ["x"], ["y"]), Self.node("Neg", ["x"], ["y"])], outputs: ["y"]), "dup"),
                       .duplicateValue(file: "m.onnx", name: "y"))
    }

    func testHugeDimsAndShortDataNameTheTensor() throws {
        var huge = Onnx_TensorProto()
        huge.name = "w"; huge.dataType = 1; huge.dims = [1 << 40, 1 << 40]
        guard case let .invalidTensor(_, tensor, _)? = error(try Self.model([Self.node("Add", ["x", "w"], ["y"])], outputs: ["y"], initializers: [huge]), "huge") else {
            return XCTFail("huge dims")
        }
        XCTAssertEqual(tensor, "w")
        var short = Onnx_TensorProto()
        short.name = "b"; short.dataType = 1; short.dims = [4]; short.rawData = Data([1, 2, 3])
        guard case let .invalidTensor(_, t2, reason)? = error(try Self.model([Self.node("Add", ["x", "b"], ["y"])], outputs: ["y"], initializers: [short]), "short") else {
            return XCTFail("short raw_data")
        }
        XCTAssertEqual(t2, "b")
        XCTAssertTrue(reason.contains("raw_data"), reason)
    }

    func testTruncatedAndGarbageFilesAreMalformed() throws {
        let data = try Self.model([Self.node("Relu", ["x"], ["y"], name: "r")], outputs: ["y"])
        for cut in [data.count / 3, data.count / 2, data.count - 1] {
            guard case .malformed? = error(data.prefix(cut), "truncated at \(cut)") else { return XCTFail("truncated at \(cut)") }
        }
        guard case .malformed? = error(Data([0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]), "length past end") else { return XCTFail() }
        XCTAssertEqual(error(Data([0x08, 0x07]), "no graph"), .noGraph(file: "m.onnx"))
    }

    /// Random byte flips of a valid model: each parses or throws an OnnxError, never traps.
    func testFuzzedFilesNeverCrash() throws {
        var w = Onnx_TensorProto()
        w.name = "w"; w.dataType = 1; w.dims = [4]; w.floatData = [1, 2, 3, 4]
        let data = try Self.model([Self.node("Add", ["x", "w"], ["a"], name: "add"), Self.node("Relu", ["a"], ["y"], name: "relu")],
                                  outputs: ["y"], initializers: [w])
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        var typed = 0
        for _ in 0..<500 {
            var bytes = [UInt8](data)
            for _ in 0...(next() % 4) { bytes[next() % bytes.count] = UInt8(next() % 256) }
            do { _ = try parse(Data(bytes)) } catch is OnnxError { typed += 1 } catch { XCTFail("untyped \(error)") }
        }
        XCTAssertGreaterThan(typed, 0)
    }

    func testTensorProtoFileDecodesEveryEncoding() throws {
        var t = Onnx_TensorProto()
        t.name = "i"; t.dataType = 7; t.dims = [2]; t.int64Data = [5, -3]
        let d = try OnnxTensorData(serializedBytes: try t.serializedBytes(), file: "t.pb")
        XCTAssertEqual(d.values, .int([5, -3]))
        var f = Onnx_TensorProto()
        f.dataType = 1; f.dims = [2]; f.rawData = Data([0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])
        XCTAssertEqual(try OnnxTensorData(serializedBytes: try f.serializedBytes(), file: "f.pb").values, .float([1, 2]))
    }
}
