/// A convolution of a chain (`Kernels.Int8ChainLink`, `Kernels.BF16ChainLink`): what the chain's callers need to walk
/// its shapes.
public protocol ConvolutionChainLink {
    var geometry: Conv2DGeometry { get }
}

extension Kernels.Int8ChainLink: ConvolutionChainLink {}
extension Kernels.BF16ChainLink: ConvolutionChainLink {}
