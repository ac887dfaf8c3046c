"""Reference timing for facemine-csvbench: the usual Python way to load fer2013.csv.

pandas.read_csv, then each row's space-separated pixel string turned into a uint8 48x48
array with numpy (as the FER-2013 notebooks do). Prints one line: the median seconds.
Usage: python3 read_fer_csv.py FILE [REPEATS]
"""
import statistics
import sys
import time

import numpy as np
import pandas as pd


def load(path):
    frame = pd.read_csv(path)
    pixels = np.stack([np.array(row.split(), dtype=np.uint8) for row in frame["pixels"]])
    return frame["emotion"].to_numpy(), pixels.reshape(-1, 48, 48), frame["Usage"].to_numpy()


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    labels, images, usage = load(path)  # warm-up (file cache, imports)
    assert images.shape[1:] == (48, 48)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        load(path)
        times.append(time.perf_counter() - start)
    print(f"{statistics.median(times):.4f}")


if __name__ == "__main__":
    main()
