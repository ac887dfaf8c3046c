#!/usr/bin/env python3
"""Runs an ONNX model exported by `facemine export` in onnxruntime, as a user of the file would.

Usage: run-onnx.py MODEL.onnx FACES.f32 N
FACES.f32 holds N faces of 48x48 float32 (little-endian, row-major, values in [0, 1]).
Prints one JSON object: the model's logits and probabilities (N x 8), its metadata and
the shapes onnxruntime reports. The ONNX checker validates the file first. The export tests
call this; CI installs onnx and onnxruntime from PyPI.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, faces_path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    onnx.checker.check_model(onnx.load(path), full_check=True)
    faces = np.fromfile(faces_path, dtype="<f4").reshape(count, 1, 48, 48)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    logits, probabilities = session.run(["logits", "probabilities"], {"faces": faces})
    if not (np.isfinite(logits).all() and np.isfinite(probabilities).all()):
        sys.exit(f"run-onnx.py: {path} computed non-finite logits or probabilities")
    meta = session.get_modelmeta()
    print(json.dumps({
        "logits": logits.tolist(),
        "probabilities": probabilities.tolist(),
        "metadata": meta.custom_metadata_map,
        "inputs": [[i.name, [d if isinstance(d, int) else str(d) for d in i.shape]] for i in session.get_inputs()],
    }))


if __name__ == "__main__":
    main()
