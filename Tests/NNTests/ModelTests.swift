import FacemineBackends
import FacemineDevice
import FacemineNN
import Testing

@Suite struct ModelTests {
    let backend = try! BackendChoice.cpu.makeBackend(threads: 2).backend

    /// Counted from the architecture: MyCNN's layers one by one; ResNet-18 as torchvision's
    /// 11,689,512 less the 3-channel stem's extra weights and the 1000-class head.
    @Test func parameterCountsMatchTheArchitectures() throws {
        let mycnn = 32 * 9 + 32 + 64 + 32 * 64 * 9 + 64 + 128 + 9216 * 128 + 128 + 128 * 8 + 8
        #expect(try MyCNN(backend, seed: 0).parameterCount == mycnn)
        #expect(mycnn == 1_199_816)
        let torchvision = 11_689_512
        let imagenet = torchvision - 64 * 2 * 49 - (512 * 1000 + 1000) + (512 * 8 + 8)
        #expect(try ResNet18(backend, stem: .imagenet, seed: 0).parameterCount == imagenet)
        #expect(try ResNet18(backend, stem: .small, seed: 0).parameterCount == imagenet - 64 * (49 - 9))
        #expect(try ResNet18(backend, stem: .medium, seed: 0).parameterCount == imagenet - 64 * (49 - 9))
        #expect(imagenet == 11_174_344)
    }

    @Test func parameterNamesFollowPyTorch() throws {
        let names = try ResNet18(backend, stem: .imagenet, seed: 0).parameters.map(\.name)
        #expect(names.prefix(3) == ["conv1.weight", "bn1.weight", "bn1.bias"])
        #expect(names.contains("layer2.0.downsample.0.weight") && names.contains("layer4.1.bn2.bias"))
        #expect(names.last == "fc.bias")
        let buffers = try ResNet18(backend, stem: .small, seed: 0).buffers.map(\.name)
        #expect(buffers.contains("layer3.0.downsample.1.running_var"))
        #expect(
            try MyCNN(backend, seed: 0).parameters.map(\.name) == [
                "conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "conv2.weight", "conv2.bias", "bn2.weight", "bn2.bias",
                "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias",
            ])
    }

    @Test func logitsHaveTheRightShapeInBothModes() throws {
        var values = [Float](repeating: 0, count: 3 * 2304)
        for i in values.indices { values[i] = Float((i * 37) % 101) / 50 - 1 }
        let images = try backend.makeTensor([3, 1, 48, 48], values: values)
        for model in [try MyCNN(backend, seed: 1) as any Classifier, try ResNet18(backend, stem: .imagenet, seed: 1)] {
            for training in [true, false] {
                let logits = try model.forward(images, StepContext(training: training, seed: 1, step: 0))
                #expect(logits.shape == [3, 8])
                #expect(try backend.floats(logits).allSatisfy(\.isFinite))
            }
        }
    }

    /// The parity export relies on seeing every ReLU's input, in forward order, before the
    /// in-place ReLU overwrites it.
    @Test func reluObserverSeesEveryReLUInputBeforeTheReLU() throws {
        final class Seen: @unchecked Sendable { var inputs: [[Float]] = [], shapes: [[Int]] = [] }
        var values = [Float](repeating: 0, count: 2 * 2304)
        for i in values.indices { values[i] = Float((i * 37) % 101) / 50 - 1 }
        let images = try backend.makeTensor([2, 1, 48, 48], values: values)
        let model = try ResNet18(backend, stem: .imagenet, seed: 1)
        let seen = Seen(), backend = self.backend
        var context = StepContext(training: true, seed: 1, step: 0)
        context.reluInputObserver = { tensor in
            seen.inputs.append(try backend.floats(tensor)); seen.shapes.append(tensor.shape)
        }
        _ = try model.forward(images, context)
        // The stem's ReLU, then two per basic block (after bn1, after the residual sum).
        #expect(seen.inputs.count == 1 + 8 * 2)
        #expect(seen.shapes.first == [2, 64, 24, 24] && seen.shapes.last == [2, 512, 2, 2])
        #expect(seen.inputs.allSatisfy { input in input.contains { $0 < 0 } && input.contains { $0 > 0 } })
    }

    /// The ReLUs and residual sums fused into the batch norms give what the same network gives
    /// with them as passes of their own (an observer of ReLU inputs turns the fusion off), in
    /// both modes and for every gradient: the fusion is the backend's business, not the model's.
    @Test(arguments: [ResNetStem.imagenet, .small])
    func fusedReLUsAndSumsMatchSeparatePasses(_ stem: ResNetStem) throws {
        var values = [Float](repeating: 0, count: 2 * 576)
        for i in values.indices { values[i] = Float((i * 53) % 97) / 48 - 1 }
        let images = try backend.makeTensor([2, 1, 24, 24], values: values)
        func run(observed: Bool) throws -> (training: [Float], evaluation: [Float], gradients: [[Float]]) {
            let model = try ResNet18(backend, stem: stem, seed: 4)
            var context = StepContext(training: true, seed: 1, step: 0)
            if observed { context.reluInputObserver = { _ in } }
            let logits = try model.forward(images, context)
            let training = try backend.floats(logits)
            var gradient = [Float](repeating: 0, count: logits.count)
            for i in gradient.indices { gradient[i] = Float(i % 5) - 2 }
            try model.backward(try backend.makeTensor(logits.shape, values: gradient))
            let gradients = try model.parameters.map { try backend.floats($0.gradient) }
            context.training = false
            let evaluation = try backend.floats(model.forward(images, context))
            return (training, evaluation, gradients)
        }
        let fused = try run(observed: false), separate = try run(observed: true)
        #expect(fused.training == separate.training)
        #expect(fused.evaluation == separate.evaluation)
        #expect(fused.gradients.count == separate.gradients.count && fused.gradients.count > 40)
        for (a, b) in zip(fused.gradients, separate.gradients) {
            let scale = max(b.map(abs).max() ?? 0, 1e-12)
            let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-5 * scale, "a parameter gradient differs by \(worst / scale) of its scale")
        }
        #expect(fused.gradients.contains { g in g.contains { $0 != 0 } })
    }

    @Test func initialisationIsDeterministicAndSeeded() throws {
        let a = try MyCNN(backend, seed: 5), b = try MyCNN(backend, seed: 5), c = try MyCNN(backend, seed: 6)
        #expect(try backend.floats(a.parameters[0].value) == backend.floats(b.parameters[0].value))
        #expect(try backend.floats(a.parameters[0].value) != backend.floats(c.parameters[0].value))
        // Kaiming normal, fan_out = 64 * 9 for a ResNet 3x3 conv: std sqrt(2 / 576).
        let w = try backend.floats(ResNet18(backend, stem: .small, seed: 0).parameters[3].value)
        let std = (w.map { Double($0 * $0) }.reduce(0, +) / Double(w.count)).squareRoot()
        #expect(abs(std - (2.0 / 576).squareRoot()) < 0.003, "std \(std)")
    }
}
