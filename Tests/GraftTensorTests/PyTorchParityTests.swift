import GraftTensor
import XCTest

/// Forward and backward against PyTorch fixtures (double precision reference):
/// max abs error <= 1e-4 relative to the output scale.
final class PyTorchParityTests: XCTestCase {
    func checkConv(_ name: String) throws {
        let f = try OpFixture(name)
        let x = try f.param("x"), w = try f.param("weight"), b = try f.param("bias")
        let opts = Conv2DOptions(stride: f.int("stride"), padding: f.int("padding"), dilation: f.int("dilation"), groups: f.int("groups"))
        let y = try x.conv2d(weight: w, bias: b, options: opts)
        assertClose(y, f["y"], "\(name) y")
        try y.backward(seed: f["dy"])
        assertClose(x.grad!, f["dx"], "\(name) dx")
        assertClose(w.grad!, f["dweight"], "\(name) dweight")
        assertClose(b.grad!, f["dbias"], "\(name) dbias")
    }

    func testConvBasic() throws { try checkConv("conv_basic") }
    func testConvStridedDilated() throws { try checkConv("conv_strided_dilated") }
    func testConvGrouped() throws { try checkConv("conv_grouped") }
    func testConvDepthwise() throws { try checkConv("conv_depthwise") }
    func testConvPointwise() throws { try checkConv("conv_pointwise") }

    func testLinear() throws {
        let f = try OpFixture("linear")
        let x = try f.param("x"), w = try f.param("weight"), b = try f.param("bias")
        let y = try x.linear(weight: w, bias: b)
        assertClose(y, f["y"], "y")
        try y.backward(seed: f["dy"])
        assertClose(x.grad!, f["dx"], "dx"); assertClose(w.grad!, f["dweight"], "dw"); assertClose(b.grad!, f["dbias"], "db")
    }

    func testBatchNormTraining() throws {
        let f = try OpFixture("batchnorm_train")
        let x = try f.param("x"), w = try f.param("weight"), b = try f.param("bias")
        let (y, _, _) = try x.batchNormTraining(scale: w, shift: b, epsilon: 1e-5)
        assertClose(y, f["y"], "y")
        try y.backward(seed: f["dy"])
        assertClose(x.grad!, f["dx"], "dx"); assertClose(w.grad!, f["dweight"], "dw"); assertClose(b.grad!, f["dbias"], "db")
    }

    func testBatchNormFrozenStatistics() throws {
        let f = try OpFixture("batchnorm_eval")
        let x = try f.param("x"), w = try f.param("weight"), b = try f.param("bias")
        let y = try x.batchNormInference(scale: w, shift: b, mean: f["running_mean"], variance: f["running_var"], epsilon: 1e-5)
        assertClose(y, f["y"], "y")
        try y.backward(seed: f["dy"])
        assertClose(x.grad!, f["dx"], "dx"); assertClose(w.grad!, f["dweight"], "dw"); assertClose(b.grad!, f["dbias"], "db")
    }

    func testLayerNorm() throws {
        let f = try OpFixture("layernorm")
        let x = try f.param("x"), w = try f.param("weight"), b = try f.param("bias")
        let y = try x.layerNorm(gamma: w, beta: b, epsilon: 1e-12)
        assertClose(y, f["y"], "y")
        try y.backward(seed: f["dy"])
        assertClose(x.grad!, f["dx"], "dx"); assertClose(w.grad!, f["dweight"], "dw"); assertClose(b.grad!, f["dbias"], "db")
    }

    func testCrossEntropyWithLabelSmoothing() throws {
        let f = try OpFixture("cross_entropy")
        let logits = try f.param("logits")
        let labels = IndexTensor(f["labels"].values.map { Int($0) })
        let loss = try logits.crossEntropy(labels: labels, labelSmoothing: 0.1)
        XCTAssertEqual(loss.scalarValue, f["loss"].scalarValue, accuracy: 1e-5)
        try loss.backward()
        assertClose(logits.grad!, f["dlogits"], "dlogits")
    }

    func testSoftmax() throws {
        let f = try OpFixture("softmax")
        let x = try f.param("x")
        let y = try x.softmax()
        assertClose(y, f["y"], "y")
        try y.backward(seed: f["dy"])
        assertClose(x.grad!, f["dx"], "dx")
    }

    func testActivations() throws {
        let kinds: [(String, Activation)] = [("gelu", .gelu), ("silu", .silu), ("hardswish", .hardswish),
                                             ("relu6", .relu6), ("sigmoid", .sigmoid), ("tanh", .tanh)]
        for (name, kind) in kinds {
            let f = try OpFixture("act_" + name)
            let x = try f.param("x")
            let y = try x.activation(kind)
            assertClose(y, f["y"], name)
            try y.backward(seed: f["dy"])
            assertClose(x.grad!, f["dx"], name + " dx")
        }
    }

    func testMaxPool() throws {
        let f = try OpFixture("maxpool")
        let x = try f.param("x")
        let y = try x.maxPool2d(kernel: 3, stride: 2, padding: 1)
        assertClose(y, f["y"], "y")
        try y.backward(seed: f["dy"])
        assertClose(x.grad!, f["dx"], "dx")
    }

    func testAdaptiveAvgPool() throws {
        let f = try OpFixture("adaptive_avgpool")
        let x = try f.param("x")
        let y = try x.adaptiveAvgPool2d(outputSize: (3, 3))
        assertClose(y, f["y"], "y")
        try y.backward(seed: f["dy"])
        assertClose(x.grad!, f["dx"], "dx")
    }
}
