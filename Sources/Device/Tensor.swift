/// Element types a tensor can hold. Everything numeric is Float32; Int32 carries class labels
/// and max-pooling indices.
public enum DType: Sendable, Equatable {
    case float32
    case int32

    public var byteSize: Int { 4 }
}

/// Memory that lives on one backend. Only the backend that made it may look inside;
/// everything above the backends treats it as an opaque handle.
public protocol DeviceStorage: AnyObject {
    var byteCount: Int { get }
}

/// A shaped view of device memory. Tensors are cheap values: `reshaped` makes another view of
/// the same storage (how `Flatten` works), so no op ever needs to copy to change a shape.
///
/// Layout is always dense row-major; image tensors are NCHW.
public struct Tensor {
    public let storage: any DeviceStorage
    public let shape: [Int]
    public let dtype: DType

    public init(storage: any DeviceStorage, shape: [Int], dtype: DType) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(
            Tensor.elementCount(shape) * dtype.byteSize <= storage.byteCount,
            "shape \(shape) does not fit in \(storage.byteCount) bytes")
        self.storage = storage
        self.shape = shape
        self.dtype = dtype
    }

    public var count: Int { Tensor.elementCount(shape) }

    /// Another view of the same memory with a different shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(
            Tensor.elementCount(newShape) == count,
            "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return Tensor(storage: storage, shape: newShape, dtype: dtype)
    }

    public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }
}
