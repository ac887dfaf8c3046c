import Foundation

/// One batch ready for a backend: images as Float32 NCHW [count, 1, 48, 48], normalised, and
/// labels as Int32 class indices.
public struct Batch: Sendable {
    public var images: [Float]
    public var labels: [Int32]
    /// Dataset indices of the faces, in batch order.
    public var indices: [Int]
    public var count: Int { labels.count }
}

/// Assembles batches on background threads while the device trains: decoding is done at load
/// time, so the work here is augmentation and conversion to normalised floats.
///
/// At most `prefetch` batches exist at once (being built or waiting), which bounds memory
/// whatever the dataset size. Batches come out in order and are identical for a given seed and
/// epoch on any number of workers. Dropping the batcher early stops its workers.
public final class PrefetchingBatcher: Sequence, IteratorProtocol {
    /// Pixels are mapped to [0, 1], then to (x - mean) / std: torchvision's
    /// `Normalize(mean=0.5, std=0.5)`, so inputs span [-1, 1].
    public static let mean: Float = 0.5
    public static let std: Float = 0.5

    /// The state the workers share. They hold this, not the batcher, so the batcher's deinit
    /// runs when its user lets go, and stops them.
    private let pipeline: Pipeline

    /// - Parameters:
    ///   - order: dataset indices for the epoch (a sampler's output).
    ///   - dropLast: leave out a final partial batch (keeps batch-norm statistics sane).
    public init(
        dataset: FaceDataset, order: [Int], batchSize: Int, augmentation: Augmentation = .none,
        seed: UInt64, epoch: Int, dropLast: Bool = false, prefetch: Int = 4, workers: Int = 2
    ) {
        precondition(batchSize > 0 && prefetch > 0 && workers > 0)
        pipeline = Pipeline(
            dataset: dataset, order: order, batchSize: batchSize, augmentation: augmentation,
            seed: seed, epoch: epoch, dropLast: dropLast, prefetch: prefetch)
        for _ in 0..<Swift.min(workers, Swift.max(pipeline.batchCount, 1)) {
            let thread = Thread { [pipeline] in pipeline.work() }
            thread.name = "facemine-batcher"
            thread.start()
        }
    }

    deinit { pipeline.stop() }

    public var count: Int { pipeline.batchCount }

    /// The next batch in order, waiting for it if the workers are behind; nil after the last.
    public func next() -> Batch? { pipeline.next() }

    /// Stops the workers; batches not yet handed out are dropped.
    public func stop() { pipeline.stop() }

    private final class Pipeline: @unchecked Sendable {
        let dataset: FaceDataset
        let order: [Int]
        let batchSize: Int
        let augmentation: Augmentation
        let seed: UInt64
        let epoch: Int
        let batchCount: Int
        let prefetch: Int

        // Guarded by `condition`.
        let condition = NSCondition()
        var ready: [Int: Batch] = [:]
        var nextToBuild = 0
        var nextToHand = 0
        var inFlight = 0
        var stopped = false

        init(
            dataset: FaceDataset, order: [Int], batchSize: Int, augmentation: Augmentation,
            seed: UInt64, epoch: Int, dropLast: Bool, prefetch: Int
        ) {
            self.dataset = dataset
            self.order = order
            self.batchSize = batchSize
            self.augmentation = augmentation
            self.seed = seed
            self.epoch = epoch
            self.prefetch = prefetch
            batchCount = dropLast ? order.count / batchSize : (order.count + batchSize - 1) / batchSize
        }

        func stop() {
            condition.lock()
            stopped = true
            condition.broadcast()
            condition.unlock()
        }

        func next() -> Batch? {
            condition.lock()
            defer { condition.unlock() }
            guard nextToHand < batchCount, !stopped else { return nil }
            while ready[nextToHand] == nil { condition.wait() }
            let batch = ready.removeValue(forKey: nextToHand)!
            nextToHand += 1
            inFlight -= 1
            condition.broadcast()
            return batch
        }

        func work() {
            while true {
                condition.lock()
                while !stopped && nextToBuild < batchCount && inFlight >= prefetch { condition.wait() }
                if stopped || nextToBuild >= batchCount {
                    condition.unlock()
                    return
                }
                let number = nextToBuild
                nextToBuild += 1
                inFlight += 1
                condition.unlock()

                let batch = build(number)

                condition.lock()
                ready[number] = batch
                condition.broadcast()
                condition.unlock()
            }
        }

        /// Batch `number`, built the same way on any thread.
        func build(_ number: Int) -> Batch {
            let indices = Array(order[(number * batchSize)..<Swift.min(order.count, (number + 1) * batchSize)])
            let n = FaceDataset.pixelsPerImage
            var images = [Float](repeating: 0, count: indices.count * n)
            images.withUnsafeMutableBufferPointer { buffer in
                for (slot, index) in indices.enumerated() {
                    let out = buffer.baseAddress! + slot * n
                    augmentation.apply(
                        dataset.image(index), source: dataset.records[index].source, seed: seed, epoch: epoch,
                        index: index, into: out)
                    for i in 0..<n { out[i] = (out[i] - PrefetchingBatcher.mean) / PrefetchingBatcher.std }
                }
            }
            return Batch(images: images, labels: indices.map { Int32(dataset.records[$0].label.rawValue) }, indices: indices)
        }
    }
}
