import FacemineDevice
import Foundation

extension CPUBackend {
    public func softmaxCrossEntropy(
        logits: Tensor, labels: Tensor, classWeights: Tensor?,
        labelSmoothing: Float, loss: Tensor, gradLogits: Tensor?
    ) {
        OpContract.loss(
            logits: logits, labels: labels, classWeights: classWeights, labelSmoothing: labelSmoothing,
            loss: loss, gradLogits: gradLogits)
        let n = logits.shape[0], classes = logits.shape[1]

        let z = logits.floats, y = labels.int32s, w = classWeights?.floats
        let dz = gradLogits?.floats
        let smooth = labelSmoothing / Float(classes)
        let sumWeights: Float = w.map { p in (0..<classes).reduce(0) { $0 + p[$1] } } ?? Float(classes)
        // Total weight of the rows' true classes: PyTorch's denominator for mean reduction.
        var denominator = 0.0
        for i in 0..<n {
            let label = Int(y[i])
            precondition(label >= 0 && label < classes, "label \(label) out of range 0..<\(classes) in row \(i)")
            denominator += Double(w?[label] ?? 1)
        }
        let inverse = denominator > 0 ? 1 / denominator : 0
        var total = 0.0
        for i in 0..<n {
            let row = z + i * classes
            let label = Int(y[i])
            var maxLogit = row[0]
            for c in 1..<classes { maxLogit = Swift.max(maxLogit, row[c]) }
            var expSum: Float = 0
            for c in 0..<classes { expSum += exp(row[c] - maxLogit) }
            let logSum = maxLogit + log(expSum)
            // Row target q_c = ((1 - s) * [c == y] + s / C) * w_c; loss_i = sum_c q_c * -log p_c.
            var rowLoss: Float = 0
            for c in 0..<classes {
                let q = ((c == label ? 1 - labelSmoothing : 0) + smooth) * (w?[c] ?? 1)
                rowLoss += q * (logSum - row[c])
            }
            total += Double(rowLoss)
            if let dz {
                // d loss_i / d z_c = (sum_c q_c) * p_c - q_c
                let labelWeight = w?[label] ?? 1
                let qSum = (1 - labelSmoothing) * labelWeight + smooth * sumWeights
                for c in 0..<classes {
                    let q = ((c == label ? 1 - labelSmoothing : 0) + smooth) * (w?[c] ?? 1)
                    let prob = exp(row[c] - logSum)
                    dz[i * classes + c] = Float(Double(qSum * prob - q) * inverse)
                }
            }
        }
        loss.floats[0] = Float(total * inverse)
    }

    public func softmaxFocalLoss(
        logits: Tensor, labels: Tensor, classWeights: Tensor?, gamma: Float,
        loss: Tensor, gradLogits: Tensor?
    ) {
        OpContract.loss(
            logits: logits, labels: labels, classWeights: classWeights, gamma: gamma, loss: loss, gradLogits: gradLogits)
        let n = logits.shape[0], classes = logits.shape[1]
        let z = logits.floats, y = labels.int32s, w = classWeights?.floats, dz = gradLogits?.floats
        var denominator = 0.0
        for i in 0..<n {
            precondition(y[i] >= 0 && Int(y[i]) < classes, "label \(y[i]) out of range 0..<\(classes) in row \(i)")
            denominator += Double(w?[Int(y[i])] ?? 1)
        }
        let inverse = denominator > 0 ? 1 / denominator : 0
        var total = 0.0
        for i in 0..<n {
            let row = z + i * classes, label = Int(y[i]), weight = Double(w?[label] ?? 1)
            var top = row[0]
            for c in 1..<classes { top = Swift.max(top, row[c]) }
            var expSum = 0.0
            for c in 0..<classes { expSum += exp(Double(row[c] - top)) }
            let logP = Double(row[label] - top) - log(expSum), p = exp(logP), rest = 1 - p
            let modulation = gamma == 0 ? 1 : pow(rest, Double(gamma))
            total += -weight * modulation * logP
            guard let dz else { continue }
            // dL/dz_j = w [gamma (1-p)^(gamma-1) p log p - (1-p)^gamma] (delta_jy - p_j)
            let slope = gamma == 0 || rest <= 0 ? 0 : Double(gamma) * pow(rest, Double(gamma) - 1) * p * logP
            let k = weight * (slope - modulation) * inverse
            for c in 0..<classes {
                let pc = exp(Double(row[c] - top)) / expSum
                dz[i * classes + c] = Float(k * ((c == label ? 1 : 0) - pc))
            }
        }
        loss.floats[0] = Float(total * inverse)
    }
}
