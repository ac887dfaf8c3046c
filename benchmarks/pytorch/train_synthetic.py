"""facemine's default MyCNN recipe in PyTorch, on the exact faces and split facemine trains on.

facemine-parity --export-data FILE --seed S writes the synthetic faces and the train/validation
split of `facemine train --seed S`; this trains MyCNN on them with the same recipe and prints the
final validation accuracy and macro-F1:
  Adam 1e-3 (L2 weight decay 1e-4 on weights only; fc1's weights at a tenth of the rate),
  one epoch of linear warm-up from zero then cosine decay to zero, per step;
  batch 64, last partial batch dropped, a new shuffle each epoch; dropout 0.5;
  Kaiming-normal init (fan_out for convs, fan_in for fc1);
  light augmentation: horizontal flip with p = 1/2 and a random shift of up to 2 pixels with
  black fill; inputs (x / 255 - 0.5) / 0.5; 15 epochs.
Usage: python3 train_synthetic.py FILE [--epochs 15] [--seed S]
"""
import argparse
import time

import torch
from torch import nn
from safetensors.torch import load_file

from models import MyCNN


def macro_f1(truth, pred, classes=8):
    scores = []
    for c in range(classes):
        tp = int(((pred == c) & (truth == c)).sum())
        support, predicted = int((truth == c).sum()), int((pred == c).sum())
        if support == 0 and predicted == 0:
            continue
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        scores.append(2 * p * r / (p + r) if p + r else 0.0)
    return sum(scores) / len(scores)


def augment(x, generator):
    n = x.shape[0]
    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], torch.flip(x, dims=[3]), x)
    # Black padding, as torchvision's RandomCrop(48, padding=2) gives before Normalize.
    padded = nn.functional.pad(x, (2, 2, 2, 2), value=-1.0)
    out = torch.empty_like(x)
    offsets = torch.randint(0, 5, (n, 2), generator=generator)
    for i in range(n):
        dy, dx = int(offsets[i, 0]), int(offsets[i, 1])
        out[i] = padded[i, :, dy:dy + 48, dx:dx + 48]
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = load_file(args.file)
    images = (data["images"].float() / 255 - 0.5) / 0.5
    images = images[:, None]
    labels = data["labels"]
    train, val = data["train"], data["validation"]

    model = MyCNN(dropout=0.5)
    for m in [model.conv1, model.conv2]:
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    nn.init.kaiming_normal_(model.fc1.weight, mode="fan_in", nonlinearity="relu")
    decay = [model.conv1.weight, model.conv2.weight, model.fc2.weight]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or n.startswith("bn")]
    optimizer = torch.optim.Adam([
        {"params": decay, "weight_decay": 1e-4},
        {"params": [model.fc1.weight], "weight_decay": 1e-4, "lr": 1e-4},
        {"params": no_decay, "weight_decay": 0.0},
    ], lr=1e-3)
    steps_per_epoch = max(1, len(train) // 64)
    total = steps_per_epoch * args.epochs
    warmup = steps_per_epoch

    def factor(step):
        if step < warmup:
            return (step + 1) / warmup
        import math
        return 0.5 * (1 + math.cos(math.pi * min((step - warmup) / max(total - warmup, 1), 1)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    generator = torch.Generator().manual_seed(args.seed)
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = train[torch.randperm(len(train), generator=generator)]
        for b in range(steps_per_epoch):
            idx = order[b * 64:(b + 1) * 64]
            x = augment(images[idx], generator)
            loss = nn.functional.cross_entropy(model(x), labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()
    with torch.no_grad():
        pred = model(images[val]).argmax(1)
    truth = labels[val]
    accuracy = float((pred == truth).float().mean())
    print(f"seed {args.seed}: accuracy {accuracy:.4f} macro-F1 {macro_f1(truth, pred):.4f} ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
