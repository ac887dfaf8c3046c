#!/usr/bin/env python3
"""How OpenCV's face box frames the training faces, and what the photo path costs.

Usage: benchmarks/photo-framing.py DATA CHECKPOINT [--per-class 60] [--facemine .build/release/facemine]

DATA is laid out as ../shared/data (fer2013/train/<class>/*.png, ckplus/CK+48/<class>/*.png).
Each sampled face is enlarged 4x (bilinear) onto a canvas twice its size (edges repeated), so
that `facemine predict --detect always` must find it as it would in a photo. Prints, per
dataset: how often one face is found, the found box's side over the face crop's side and its
centre's offset (medians; a ratio of 1 means training faces are framed as the detector frames
a face, so the crop needs no margin), and the accuracy of the photo path (detect, level the
eyes, crop) against the crop itself with CHECKPOINT: fair only on faces CHECKPOINT never trained
on (a model memorises its training crops, and the photo path's few pixels of jitter undo that).
Needs numpy and scikit-image.
Nothing in CI runs it: the faces are not part of the project.
"""
import argparse
import json
import os
import random
import subprocess
import tempfile

import numpy as np
import skimage.io
from skimage.transform import resize

# Folder names of both layouts -> facemine's class names.
CLASS_NAMES = {"angry": "anger", "anger": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness",
               "neutral": "neutral", "sad": "sadness", "sadness": "sadness", "surprise": "surprise", "contempt": "contempt"}


def sample(root, per_class, rng):
    files = []
    for c in sorted(os.listdir(root)):
        names = sorted(os.listdir(os.path.join(root, c)))
        files += [os.path.join(root, c, f) for f in rng.sample(names, min(per_class, len(names)))]
    return files


def predict(facemine, checkpoint, paths, extra):
    out = subprocess.run([facemine, "predict", checkpoint, *paths, "--json", "--top", "1", *extra],
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("checkpoint")
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--facemine", default=".build/release/facemine")
    args = parser.parse_args()
    for name, root in [("FER-2013", os.path.join(args.data, "fer2013/train")),
                       ("CK+48", os.path.join(args.data, "ckplus/CK+48"))]:
        files = sample(root, args.per_class, random.Random(0))
        with tempfile.TemporaryDirectory() as work:
            canvases = []
            for i, f in enumerate(files):
                face = skimage.io.imread(f).astype(np.float64)
                face = face[..., 0] if face.ndim == 3 else face
                big = resize(face, (192, 192), order=1, preserve_range=True)
                path = os.path.join(work, f"{i:05d}.png")
                skimage.io.imsave(path, np.pad(big, 96, mode="edge").clip(0, 255).astype(np.uint8), check_contrast=False)
                canvases.append(path)
            photos = predict(args.facemine, args.checkpoint, canvases, ["--detect", "always"])
        one = [(r["faces"][0], f) for r, f in zip(photos, files) if r.get("faces") and len(r["faces"]) == 1]
        ratio = np.array([face["box"]["width"] / 192 for face, _ in one])
        dx = np.array([(face["box"]["x"] + face["box"]["width"] / 2 - 192) / 192 for face, _ in one])
        dy = np.array([(face["box"]["y"] + face["box"]["height"] / 2 - 192) / 192 for face, _ in one])
        print(f"{name}: {len(files)} faces, one face found in {len(one)}; box side / crop side median {np.median(ratio):.3f} "
              f"(quartiles {np.percentile(ratio, 25):.3f}-{np.percentile(ratio, 75):.3f}); centre offset median "
              f"x {np.median(dx):+.3f}, y {np.median(dy):+.3f} of the crop; eyes found in {sum(1 for f, _ in one if f['box'].get('eyes'))}")
        if one:
            crops = predict(args.facemine, args.checkpoint, [f for _, f in one], [])
            truth = [CLASS_NAMES[f.split(os.sep)[-2]] for _, f in one]
            whole = np.mean([c["classes"][0] == t for c, t in zip(crops, truth)])
            photo = np.mean([face["classes"][0] == t for (face, _), t in zip(one, truth)])
            agree = np.mean([face["classes"][0] == c["classes"][0] for (face, _), c in zip(one, crops)])
            print(f"  accuracy on those faces: the crop itself {whole:.3f}, the photo path {photo:.3f}; same top class {agree:.3f}")


if __name__ == "__main__":
    main()
