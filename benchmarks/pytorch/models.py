"""The PyTorch reference models: MyCNN and ResNet-18 exactly as facemine builds them
(DESIGN.md section 3), with the same parameter names as torchvision's, so weights cross over
by name. Written out here so only `torch` is needed."""
import torch
from torch import nn


class MyCNN(nn.Module):
    def __init__(self, classes=8, dropout=0.5):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.dropout1 = nn.Dropout(dropout)
        self.fc1 = nn.Linear(64 * 12 * 12, 128)
        self.dropout2 = nn.Dropout(dropout)
        self.fc2 = nn.Linear(128, classes)
        # One ReLU module, called three times as facemine's three ReLU layers are (parity.py
        # hooks ReLU modules; it has no parameters, so the state dict is unchanged).
        self.relu = nn.ReLU()

    def forward(self, x):
        x = nn.functional.max_pool2d(self.relu(self.bn1(self.conv1(x))), 2)
        x = nn.functional.max_pool2d(self.relu(self.bn2(self.conv2(x))), 2)
        x = self.dropout1(torch.flatten(x, 1))
        x = self.dropout2(self.relu(self.fc1(x)))
        return self.fc2(x)


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """torchvision's layout and names with a one-channel stem: `imagenet` is the 7x7/2 conv and
    3x3/2 max pool, `small` a 3x3/1 conv and no pool (keeps 48x48 maps)."""

    def __init__(self, classes=8, stem="small"):
        super().__init__()
        if stem == "small":
            self.conv1 = nn.Conv2d(1, 64, 3, 1, 1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        widths, inplanes = [64, 128, 256, 512], 64
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(inplanes, w, stride), BasicBlock(w, w, 1)))
            inplanes = w
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def make(name, stem="small", dropout=0.5):
    return MyCNN(dropout=dropout) if name == "mycnn" else ResNet18(stem=stem)
