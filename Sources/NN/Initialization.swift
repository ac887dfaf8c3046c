import FacemineDevice
import Foundation

/// Weight initialisation, deterministic by seed and parameter name (Philox draws keyed by a
/// hash of the name), so a model is the same on every backend and every run.
public enum Initialization {
    /// torchvision's ResNet convolutions: Kaiming normal, fan_out, ReLU gain: std = sqrt(2 / fan_out).
    case kaimingNormalFanOut
    /// Kaiming normal on fan_in: std = sqrt(2 / fan_in), keeps ReLU activations at unit scale.
    case kaimingNormalFanIn
    /// PyTorch's default for Conv2d and Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    case pytorchDefault
    /// U(-bound, bound): PyTorch's bias default, with bound = 1/sqrt(fan_in of the weight).
    case uniform(Float)

    public func values(shape: [Int], name: String, seed: UInt64) -> [Float] {
        let count = Tensor.elementCount(shape)
        let receptive = shape.count > 2 ? shape[2...].reduce(1, *) : 1
        let fanIn = shape.count > 1 ? shape[1] * receptive : shape[0]
        let fanOut = shape[0] * receptive
        let key = Initialization.hash(name) ^ seed
        switch self {
        case .pytorchDefault:
            return Initialization.uniform(1 / Float(fanIn).squareRoot()).values(shape: shape, name: name, seed: seed)
        case .uniform(let bound):
            return (0..<count).map { (2 * Philox.uniform(seed: key, step: 0, index: $0) - 1) * bound }
        case .kaimingNormalFanOut, .kaimingNormalFanIn:
            let fan = Float(self == .kaimingNormalFanOut ? fanOut : fanIn)
            let std = (2 / fan).squareRoot()
            return (0..<count).map { i in
                // Box-Muller on two independent Philox draws.
                let u1 = max(Philox.uniform(seed: key, step: 1, index: i), 1e-7)
                let u2 = Philox.uniform(seed: key, step: 2, index: i)
                return std * (-2 * log(u1)).squareRoot() * cos(2 * Float.pi * u2)
            }
        }
    }

    /// FNV-1a: a stable hash (Swift's own Hasher is seeded per process).
    static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return h
    }
}

extension Initialization: Equatable {}

/// Makes a parameter on a backend with initial values.
func makeParameter(
    _ backend: any Backend, name: String, shape: [Int], initialization: Initialization,
    seed: UInt64, decays: Bool
) throws -> Parameter {
    let value = try backend.makeTensor(shape, values: initialization.values(shape: shape, name: name, seed: seed))
    return Parameter(name: name, value: value, gradient: try backend.makeTensor(shape), decays: decays)
}
