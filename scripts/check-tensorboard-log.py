#!/usr/bin/env python3
"""Reads a facemine run folder's TensorBoard log with TensorBoard's own reader and checks it
against the run's history.csv: every epoch's scalars are there with the same values, and the
step losses too. Exit status 0 when they agree. CI runs it on a fresh run (.ci/run).

Usage: scripts/check-tensorboard-log.py RUN_FOLDER
"""
import csv
import sys

from tensorboard.backend.event_processing import event_accumulator


def main(folder):
    acc = event_accumulator.EventAccumulator(folder, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    expected = {"epoch/train_loss", "epoch/val_macro_f1", "epoch/val_accuracy", "step/train_loss"}
    if not expected <= tags:
        sys.exit(f"missing scalars: {sorted(expected - tags)} (found {sorted(tags)})")
    with open(f"{folder}/history.csv") as f:
        rows = list(csv.DictReader(f))
    for tag, column in [("epoch/train_loss", "train_loss"), ("epoch/val_macro_f1", "val_macro_f1"),
                        ("epoch/val_accuracy", "val_accuracy")]:
        logged = {e.step: e.value for e in acc.Scalars(tag)}
        for row in rows:
            epoch, value = int(row["epoch"]), float(row[column])
            if epoch not in logged or abs(logged[epoch] - value) > 1e-5 * max(1.0, abs(value)):
                sys.exit(f"{tag} at epoch {epoch}: TensorBoard read {logged.get(epoch)}, history.csv has {value}")
    steps = len(acc.Scalars("step/train_loss"))
    print(f"TensorBoard read {len(tags)} scalar series, {len(rows)} epochs and {steps} step losses from {folder}: "
          "they agree with history.csv")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
