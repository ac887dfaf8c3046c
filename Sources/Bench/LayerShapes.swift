import FacemineDevice

/// The distinct convolution, batch-norm and linear shapes of MyCNN and ResNet-18
/// (DESIGN.md §3) at a given batch size: the shapes a training step spends its time in.
public struct LayerShapes {
    public struct Conv {
        public let model: String
        public let name: String
        public let geometry: ConvGeometry
    }

    public struct Linear {
        public let model: String
        public let name: String
        public let batch: Int
        public let inFeatures: Int
        public let outFeatures: Int
    }

    public let convs: [Conv]
    public let batchNorms: [(model: String, shape: [Int])]
    public let linears: [Linear]

    public init(batch n: Int) {
        func conv(_ model: String, _ name: String, _ cin: Int, _ cout: Int, _ size: Int, k: Int, s: Int, p: Int) -> Conv {
            Conv(
                model: model, name: name,
                geometry: ConvGeometry(
                    batch: n, inChannels: cin, height: size, width: size,
                    outChannels: cout, kernel: k, stride: s, padding: p))
        }
        var convs = [
            conv("MyCNN", "conv1", 1, 32, 48, k: 3, s: 1, p: 1),
            conv("MyCNN", "conv2", 32, 64, 24, k: 3, s: 1, p: 1),
        ]
        // ResNet-18 stages at input resolution `size`: the first block of stages 2-4 halves it.
        func resnet(_ model: String, stem: [Conv], size: Int) -> [Conv] {
            var layers = stem
            var s = size
            for (stage, width) in [64, 128, 256, 512].enumerated() {
                if stage > 0 {
                    layers.append(conv(model, "layer\(stage + 1) 3x3 s2", width / 2, width, s, k: 3, s: 2, p: 1))
                    layers.append(conv(model, "layer\(stage + 1) 1x1 s2", width / 2, width, s, k: 1, s: 2, p: 0))
                    s = (s + 1) / 2
                }
                layers.append(conv(model, "layer\(stage + 1) 3x3", width, width, s, k: 3, s: 1, p: 1))
            }
            return layers
        }
        convs += resnet("ResNet-18 small", stem: [conv("ResNet-18 small", "stem 3x3", 1, 64, 48, k: 3, s: 1, p: 1)], size: 48)
        convs += resnet(
            "ResNet-18 imagenet", stem: [conv("ResNet-18 imagenet", "stem 7x7 s2", 1, 64, 48, k: 7, s: 2, p: 3)], size: 12)
        self.convs = convs
        self.batchNorms = [
            ("MyCNN", [n, 32, 48, 48]), ("MyCNN", [n, 64, 24, 24]),
            ("ResNet-18 small", [n, 64, 48, 48]), ("ResNet-18 small", [n, 512, 6, 6]),
            ("ResNet-18 imagenet", [n, 64, 24, 24]), ("ResNet-18 imagenet", [n, 512, 2, 2]),
        ]
        self.linears = [
            Linear(model: "MyCNN", name: "fc1 9216->128", batch: n, inFeatures: 9216, outFeatures: 128),
            Linear(model: "MyCNN", name: "fc2 128->8", batch: n, inFeatures: 128, outFeatures: 8),
            Linear(model: "ResNet-18", name: "fc 512->8", batch: n, inFeatures: 512, outFeatures: 8),
        ]
    }
}
