import COpenCL
import FacemineDevice
import Foundation

extension OpenCLBackend {
    public func softmaxCrossEntropy(
        logits: Tensor, labels: Tensor, classWeights: Tensor?,
        labelSmoothing: Float, loss: Tensor, gradLogits: Tensor?
    ) {
        OpContract.loss(
            logits: logits, labels: labels, classWeights: classWeights, labelSmoothing: labelSmoothing,
            loss: loss, gradLogits: gradLogits)
        let n = logits.shape[0], classes = logits.shape[1]
        launch(
            Kernel.softmaxCrossEntropy, groups: 1,
            [
                .tensor(logits), .tensor(labels), .tensor(classWeights ?? logits), .int(classWeights == nil ? 0 : 1),
                .int(n), .int(classes), .float(labelSmoothing), .tensor(loss), .tensor(gradLogits ?? loss),
                .int(gradLogits == nil ? 0 : 1),
            ])
    }

    public func softmaxFocalLoss(
        logits: Tensor, labels: Tensor, classWeights: Tensor?, gamma: Float,
        loss: Tensor, gradLogits: Tensor?
    ) {
        OpContract.loss(
            logits: logits, labels: labels, classWeights: classWeights, gamma: gamma, loss: loss, gradLogits: gradLogits)
        let n = logits.shape[0], classes = logits.shape[1]
        launch(
            Kernel.softmaxFocalLoss, groups: 1,
            [
                .tensor(logits), .tensor(labels), .tensor(classWeights ?? logits), .int(classWeights == nil ? 0 : 1),
                .int(n), .int(classes), .float(gamma), .tensor(loss), .tensor(gradLogits ?? loss),
                .int(gradLogits == nil ? 0 : 1),
            ])
    }

    public func sgdStep(parameter: Tensor, gradient: Tensor, momentumBuffer: Tensor?, settings s: SGDSettings, step: Int) {
        OpContract.sgdStep(
            parameter: parameter, gradient: gradient, momentumBuffer: momentumBuffer, momentum: s.momentum, step: step)
        let n = parameter.count
        guard s.momentum != 0 else {
            launch(
                Kernel.sgdStep, global: n,
                [
                    .tensor(parameter), .tensor(gradient), .int(n),
                    .float(s.learningRate), .float(s.weightDecay), .float(s.gradientScale),
                ])
            return
        }
        let momentumBuffer = momentumBuffer!  // OpContract.sgdStep checked it
        launch(
            Kernel.sgdMomentumStep, global: n,
            [
                .tensor(parameter), .tensor(gradient), .tensor(momentumBuffer), .int(n),
                .float(s.learningRate), .float(s.weightDecay), .float(s.gradientScale),
                .float(s.momentum), .float(1 - s.dampening), .int(step == 1 ? 1 : 0), .int(s.nesterov ? 1 : 0),
            ])
    }

    public func adamStep(
        parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor,
        settings s: AdamSettings, step: Int
    ) {
        OpContract.adamStep(
            parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment, step: step)
        let correction1 = 1 - Float(pow(Double(s.beta1), Double(step)))
        let correction2Root = Float((1 - pow(Double(s.beta2), Double(step))).squareRoot())
        let n = parameter.count
        launch(
            Kernel.adamStep, global: n,
            [
                .tensor(parameter), .tensor(gradient), .tensor(firstMoment), .tensor(secondMoment), .int(n),
                .float(s.beta1), .float(s.beta2), .float(s.epsilon), .float(s.gradientScale),
                .float(s.decoupledWeightDecay ? 0 : s.weightDecay),
                .float(s.decoupledWeightDecay ? 1 - s.learningRate * s.weightDecay : 1),
                .float(s.learningRate / correction1), .float(correction2Root),
            ])
    }

    public func argmaxRows(_ x: Tensor, into indices: Tensor) {
        OpContract.argmaxRows(x, into: indices)
        launch(Kernel.argmaxRows, global: x.shape[0], [.tensor(x), .tensor(indices), .int(x.shape[0]), .int(x.shape[1])])
    }

    /// Two passes: `normGroups` work-groups per tensor write partial sums, then one work-item
    /// per tensor adds its partials, so a large gradient keeps many compute units busy.
    public func squaredNorms(_ tensors: [Tensor], into result: Tensor) {
        OpContract.squaredNorms(tensors, into: result)
        guard !tensors.isEmpty else { return }
        do {
            let partials = try scratch(.partials, bytes: tensors.count * Self.normGroups * 4)
            for (i, t) in tensors.enumerated() {
                launch(
                    Kernel.squaredNormPartial, groups: Self.normGroups,
                    [.tensor(t), .int(t.count), .buffer(partials), .int(i * Self.normGroups)])
            }
            launch(
                Kernel.sumRows, global: tensors.count,
                [.buffer(partials), .tensor(result), .int(tensors.count), .int(Self.normGroups)])
        } catch {
            if pendingError == nil { pendingError = error as? DeviceError }
        }
    }

    static let normGroups = 32

    public func sum(_ x: Tensor, into result: Tensor) {
        OpContract.sum(into: result)
        launch(Kernel.sumAll, groups: 1, [.tensor(x), .tensor(result), .int(x.count)])
    }
}
