"""PyTorch's side of `facemine bench`: the same three models, batch sizes and thread count,
timed the same way (median of repeats after warm-up; a training step is forward,
cross-entropy, backward and an Adam step with the loss read back; inference is an
evaluation-mode forward with the predictions read back), written in facemine's bench JSON
schema so that `facemine bench --compare pytorch.json` prints facemine / PyTorch ratios.

On a GPU (`--device cuda`) the model and batch live on the GPU; reading the loss and the
predictions back synchronises, as facemine's timings do. TF32 is off unless `--tf32`, so both
sides compute in FP32 (PyTorch's own default lets cuDNN convolutions use TF32).

Setup (not part of CI):  python3 -m venv .venv && .venv/bin/pip install torch
Usage:  python3 bench.py --threads 2 --batches 32,128 --repeats 5 --out pytorch.json
        python3 bench.py --device cuda --batches 32,128 --out pytorch-cuda.json
"""
import argparse
import datetime
import json
import statistics
import sys
import time

import torch

from models import make

MODELS = [("MyCNN", "mycnn", "small"), ("ResNet-18 (small stem)", "resnet18", "small"),
          ("ResNet-18 (imagenet stem)", "resnet18", "imagenet")]


def median_seconds(fn, warm_up, repeats):
    for _ in range(warm_up):
        fn()
    times = []
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", default="32,128")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warm-up", type=int, default=2)
    p.add_argument("--model", default=None, help="only models whose name contains this text")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--tf32", action="store_true", help="let cuDNN and cuBLAS use TF32 (PyTorch's conv default)")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    if device.type == "cuda":
        where = f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}, TF32 {'on' if args.tf32 else 'off'})"
    else:
        where = f"the CPU, {args.threads} threads"
    torch.manual_seed(0)
    entries = []
    for label, name, stem in MODELS:
        if args.model and args.model.lower() not in label.lower():
            continue
        for batch in [int(b) for b in args.batches.split(",")]:
            print(f"pytorch: {label}, batch {batch}", file=sys.stderr)
            model = make(name, stem=stem).to(device)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            x = (torch.rand(batch, 1, 48, 48) * 2 - 1).to(device)
            y = (torch.arange(batch) % 8).to(device)
            loss_fn = torch.nn.CrossEntropyLoss()

            def train_step():
                model.train()
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                loss.item()

            def inference():
                model.eval()
                with torch.no_grad():
                    model(x).argmax(1).tolist()

            start = time.perf_counter()
            train_step()
            first = time.perf_counter() - start
            train = median_seconds(train_step, args.warm_up, args.repeats)
            infer = median_seconds(inference, args.warm_up, args.repeats)
            entries += [
                {"backend": "pytorch", "group": "train", "name": label, "batch": batch, "seconds": train,
                 "imagesPerSecond": batch / train},
                {"backend": "pytorch", "group": "inference", "name": label, "batch": batch, "seconds": infer,
                 "imagesPerSecond": batch / infer},
                {"backend": "pytorch", "group": "startup", "name": f"first training step, {label}", "batch": batch,
                 "seconds": first, "imagesPerSecond": batch / first},
            ]
    report = {
        "schema": "facemine-bench/1",
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "benchmarks/pytorch/bench.py " + " ".join(sys.argv[1:]),
        "devices": [{"backend": "pytorch",
                     "description": f"PyTorch {torch.__version__} on {where}"}],
        "entries": entries,
    }
    text = json.dumps(report, indent=2, sort_keys=True)
    if args.out:
        with open(args.out + ".tmp", "w") as f:
            f.write(text)
        import os
        os.replace(args.out + ".tmp", args.out)
    else:
        print(text)


if __name__ == "__main__":
    main()
