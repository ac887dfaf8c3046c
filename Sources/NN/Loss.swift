import FacemineDevice

/// Softmax cross-entropy over a batch, with optional class weights and label smoothing
/// (PyTorch's `CrossEntropyLoss(weight:, label_smoothing:)`, mean reduction).
public final class CrossEntropyLoss {
    let backend: any Backend
    let classWeights: Tensor?
    public let labelSmoothing: Float
    /// Above 0: focal loss with this gamma instead (label smoothing does not apply).
    public let focalGamma: Float
    private let cache: TensorCache

    public init(_ backend: any Backend, classWeights: [Float]? = nil, labelSmoothing: Float = 0, focalGamma: Float = 0) throws {
        self.backend = backend
        self.classWeights = try classWeights.map { try backend.makeTensor([$0.count], values: $0) }
        self.labelSmoothing = labelSmoothing
        self.focalGamma = focalGamma
        cache = TensorCache(backend)
    }

    /// Enqueues the loss and its gradient; returns (loss [1], dLoss/dLogits [N, C]).
    public func compute(logits: Tensor, labels: Tensor) throws -> (loss: Tensor, gradient: Tensor) {
        let loss = try cache.tensor("loss", [1])
        let gradient = try cache.tensor("gradient", logits.shape)
        enqueue(logits: logits, labels: labels, loss: loss, gradient: gradient)
        return (loss, gradient)
    }

    /// The loss of mixup and CutMix: `weight` x the loss against `labels` plus (1 - `weight`) x
    /// the loss against `partnerLabels`, and its gradient (the softmax is shared, so the
    /// gradient is the same blend of the two gradients).
    public func compute(logits: Tensor, labels: Tensor, partnerLabels: Tensor, weight: Float) throws -> (
        loss: Tensor, gradient: Tensor
    ) {
        let (loss, gradient) = try compute(logits: logits, labels: labels)
        let partnerLoss = try cache.tensor("partner loss", [1])
        let partnerGradient = try cache.tensor("partner gradient", logits.shape)
        enqueue(logits: logits, labels: partnerLabels, loss: partnerLoss, gradient: partnerGradient)
        backend.axpby(alpha: 1 - weight, partnerLoss, beta: weight, loss)
        backend.axpby(alpha: 1 - weight, partnerGradient, beta: weight, gradient)
        return (loss, gradient)
    }

    private func enqueue(logits: Tensor, labels: Tensor, loss: Tensor, gradient: Tensor) {
        if focalGamma > 0 {
            backend.softmaxFocalLoss(
                logits: logits, labels: labels, classWeights: classWeights, gamma: focalGamma,
                loss: loss, gradLogits: gradient)
        } else {
            backend.softmaxCrossEntropy(
                logits: logits, labels: labels, classWeights: classWeights,
                labelSmoothing: labelSmoothing, loss: loss, gradLogits: gradient)
        }
    }
}
