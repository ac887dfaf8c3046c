/// Stream purposes, so two uses of one seed never draw the same numbers.
enum Stream: UInt64 {
    case identity = 1, face, shuffle, sampler, augmentation, folds, labels, faceExtras, mixing
}
