/// Array-friendly wrappers over the pointer-based transfer primitives. They exist for tests,
/// tools and setup code; hot paths hand the backend their own buffers.
extension Backend {
    public var tunedKernelChoices: [String: String] { [:] }

    public func makeTensor(_ shape: [Int]) throws -> Tensor {
        try makeTensor(shape, dtype: .float32)
    }

    public func makeTensor(_ shape: [Int], values: [Float]) throws -> Tensor {
        let t = try makeTensor(shape, dtype: .float32)
        precondition(values.count == t.count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { upload($0, to: t) }
        return t
    }

    public func makeTensor(_ shape: [Int], labels: [Int32]) throws -> Tensor {
        let t = try makeTensor(shape, dtype: .int32)
        precondition(labels.count == t.count, "\(labels.count) values for shape \(shape)")
        labels.withUnsafeBufferPointer { upload($0, to: t) }
        return t
    }

    public func floats(_ t: Tensor) throws -> [Float] {
        precondition(t.dtype == .float32, "tensor holds \(t.dtype), not float32")
        return try [Float](unsafeUninitializedCapacity: t.count) { buffer, initialized in
            try download(t, into: buffer)
            initialized = t.count
        }
    }

    public func int32s(_ t: Tensor) throws -> [Int32] {
        precondition(t.dtype == .int32, "tensor holds \(t.dtype), not int32")
        return try [Int32](unsafeUninitializedCapacity: t.count) { buffer, initialized in
            try download(t, into: buffer)
            initialized = t.count
        }
    }
}

/// Batch norm with nothing fused after it, as the conformance tests, the benchmarks and the
/// tools call it.
extension Backend {
    public func batchNormTrainingForward(
        _ x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVariance: Tensor,
        settings: BatchNormSettings, output: Tensor, savedMean: Tensor, savedInvStd: Tensor
    ) {
        batchNormTrainingForward(
            x, gamma: gamma, beta: beta, runningMean: runningMean, runningVariance: runningVariance, settings: settings,
            output: output, savedMean: savedMean, savedInvStd: savedInvStd, epilogue: .none)
    }

    public func batchNormInferenceForward(
        _ x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVariance: Tensor,
        epsilon: Float, output: Tensor
    ) {
        batchNormInferenceForward(
            x, gamma: gamma, beta: beta, runningMean: runningMean, runningVariance: runningVariance,
            epsilon: epsilon, output: output, epilogue: .none)
    }

    public func batchNormBackward(
        gradOutput: Tensor, input: Tensor, gamma: Tensor, savedMean: Tensor, savedInvStd: Tensor,
        gradInput: Tensor, gradGamma: Tensor, gradBeta: Tensor
    ) {
        batchNormBackward(
            gradOutput: gradOutput, input: input, gamma: gamma, savedMean: savedMean, savedInvStd: savedInvStd,
            gradInput: gradInput, gradGamma: gradGamma, gradBeta: gradBeta, reluOutput: nil)
    }
}
