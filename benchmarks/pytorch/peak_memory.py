"""Five training steps of ResNet-18 (small stem) at batch 64 in PyTorch, for peak-memory
comparison with facemine. Run under /usr/bin/time -v and read "Maximum resident set size":
  /usr/bin/time -v python3 peak_memory.py
  /usr/bin/time -v facemine bench --backend cpu --models-only --model small --batches 64 --repeats 3
"""
import torch

from models import make

torch.set_num_threads(2)
model = make("resnet18", stem="small")
optimizer = torch.optim.Adam(model.parameters(), 1e-3)
x = torch.randn(64, 1, 48, 48)
y = torch.randint(0, 8, (64,))
for _ in range(5):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
