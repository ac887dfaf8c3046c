/// The combined 8-class label space of DESIGN.md §4. FER-2013's own indices 0...6 are the first
/// seven in the same order; contempt exists only in CK+.
public enum Emotion: Int, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case anger = 0, disgust, fear, happiness, sadness, surprise, neutral, contempt

    public static let count = 8

    public var name: String {
        switch self {
        case .anger: "anger"
        case .disgust: "disgust"
        case .fear: "fear"
        case .happiness: "happiness"
        case .sadness: "sadness"
        case .surprise: "surprise"
        case .neutral: "neutral"
        case .contempt: "contempt"
        }
    }

    public var description: String { name }

    /// Class folders of the Kaggle FER-2013 layout (`train/angry/...`). Mapped by name:
    /// their alphabetical order is *not* the label order.
    public static let ferFolderNames: [String: Emotion] = [
        "angry": .anger, "disgust": .disgust, "fear": .fear, "happy": .happiness,
        "neutral": .neutral, "sad": .sadness, "surprise": .surprise,
    ]

    /// Class folders of CK+48 (`CK+48/anger/...`); CK+48 has no neutral.
    public static let ckFolderNames: [String: Emotion] = [
        "anger": .anger, "contempt": .contempt, "disgust": .disgust, "fear": .fear,
        "happy": .happiness, "sadness": .sadness, "surprise": .surprise,
    ]
}

/// Where a face came from.
public enum DataSource: String, CaseIterable, Sendable, Codable {
    case fer2013 = "FER-2013"
    case ckplus = "CK+"
    case synthetic
    /// The two styles of the two-source synthetic benchmark (`TwoSourceFaces`).
    case syntheticWild = "synthetic-wild"
    case syntheticLab = "synthetic-lab"

    /// Posed photos under controlled light (CK+ and its synthetic stand-in).
    public var isLab: Bool { self == .ckplus || self == .syntheticLab }
}

/// The split a sample had in its original release (FER-2013's `Usage` column or file prefix,
/// CK+ CSV's `Usage` column); CK+48 and synthetic data have none.
public enum OriginalSplit: String, CaseIterable, Sendable, Codable {
    case training = "Training"
    case publicTest = "PublicTest"
    case privateTest = "PrivateTest"
}
