"""PyTorch's training throughput on the same work facemine-opbench --training times:
forward + backward + Adam step on random 1x48x48 faces, batch 64, median of repeats after
warm-up, with the given number of threads. Prints one line per model: name and images/s.

Usage: python3 throughput.py [--threads 2] [--batch 64] [--steps 20]
"""
import argparse
import statistics
import time

import torch

from models import make


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name, stem in [("mycnn", None), ("resnet18", "small"), ("resnet18", "imagenet")]:
        model = make(name, stem=stem or "small")
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.randn(args.batch, 1, 48, 48)
        y = torch.randint(0, 8, (args.batch,))
        loss_fn = torch.nn.CrossEntropyLoss()

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()

        for _ in range(3):
            step()
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        label = "MyCNN" if name == "mycnn" else f"ResNet-18 ({stem} stem)"
        print(f"{label}\t{args.batch / statistics.median(times):.1f}")


if __name__ == "__main__":
    main()
