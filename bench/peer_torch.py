#!/usr/bin/env python3
"""PyTorch peer of bench/gpubench: the same models, shapes, batches and optimizer, timed the
same way, written as the same JSON lines.

Models (mirroring mlx/unet and mlx/fcdensenet):
  unet        MNIST denoiser: residual UNet, depth 2, 16/32/64 channels, batch norm, ReLU,
              up-sampling by a 1x1 convolution and depth-to-space; Gaussian noise (sigma 0.3)
              added on the device, clipped to [0, 1]; mean squared error. Batch 256 of 28x28x1.
  fcdensenet  FC-DenseNet103 (Jegou et al. 2017), growth 16, 48 first filters, dropout 0.2,
              3x3 transposed convolutions of stride 2 up, on 128x256 images of 4 channels
              (color and disparity), batch 4, 19 classes, per-pixel softmax cross-entropy.
Adam with learning rate 1e-3, float32, channels-last memory, cuDNN autotuning on.
"""

import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

NOISE_SIGMA = 0.3
LEARNING_RATE = 1e-3


class ConvBlock(nn.Module):
    """Two 3x3 convolutions with batch norm, a residual path (1x1 when channels change)."""

    def __init__(self, cin, c):
        super().__init__()
        self.shortcut = nn.Conv2d(cin, c, 1) if cin != c else None
        self.conv1 = nn.Conv2d(cin, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        s = x if self.shortcut is None else self.shortcut(x)
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + s)


class UpSample(nn.Module):
    """2x up-sampling: a 1x1 convolution to 4c channels, then depth-to-space."""

    def __init__(self, cin, c):
        super().__init__()
        self.conv = nn.Conv2d(cin, 4 * c, 1)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x):
        return self.shuffle(self.conv(x))


class UNet(nn.Module):
    def __init__(self, cin=1, cout=1, depth=2, base=16):
        super().__init__()
        ch = [base << i for i in range(depth + 1)]
        self.down = nn.ModuleList()
        c = cin
        for level in range(depth):
            self.down.append(ConvBlock(c, ch[level]))
            c = ch[level]
        self.bottleneck = ConvBlock(c, ch[depth])
        self.ups = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        for level in reversed(range(depth)):
            self.ups.append(UpSample(ch[level + 1], ch[level]))
            self.up_blocks.append(ConvBlock(2 * ch[level], ch[level]))
        self.output = nn.Conv2d(ch[0], cout, 1)

    def forward(self, x):
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottleneck(x)
        for up, block in zip(self.ups, self.up_blocks):
            x = block(torch.cat([skips.pop(), up(x)], dim=1))
        return self.output(x)


class DenseLayer(nn.Sequential):
    def __init__(self, cin, growth):
        super().__init__(nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, growth, 3, padding=1),
                         nn.Dropout(0.2))


class DenseBlock(nn.Module):
    """Layers each seeing all earlier outputs; returns the input and the new features, or the
    new features only (up path)."""

    def __init__(self, cin, layers, growth, new_only):
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(cin + i * growth, growth) for i in range(layers))
        self.new_only = new_only

    def forward(self, x):
        new = []
        for layer in self.layers:
            y = layer(x)
            x = torch.cat([x, y], dim=1)
            new.append(y)
        return torch.cat(new, dim=1) if self.new_only else x


class TransitionDown(nn.Sequential):
    def __init__(self, c):
        super().__init__(nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c, 1), nn.Dropout(0.2),
                         nn.MaxPool2d(2))


class FCDenseNet(nn.Module):
    def __init__(self, cin=4, classes=19, down=(4, 5, 7, 10, 12), bottleneck=15, growth=16,
                 first=48):
        super().__init__()
        self.first = nn.Conv2d(cin, first, 3, padding=1)
        c = first
        self.down_blocks = nn.ModuleList()
        self.tds = nn.ModuleList()
        skip_ch = []
        for n in down:
            self.down_blocks.append(DenseBlock(c, n, growth, new_only=False))
            c += n * growth
            skip_ch.append(c)
            self.tds.append(TransitionDown(c))
        self.bottleneck = DenseBlock(c, bottleneck, growth, new_only=True)
        prev = bottleneck * growth
        self.tus = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        for i, n in enumerate(reversed(down)):
            self.tus.append(nn.ConvTranspose2d(prev, prev, 3, stride=2, padding=1,
                                               output_padding=1))
            c = skip_ch[-1 - i] + prev
            last = i == len(down) - 1
            self.up_blocks.append(DenseBlock(c, n, growth, new_only=not last))
            prev = n * growth
        self.output = nn.Conv2d(c + prev, classes, 1)

    def forward(self, x):
        x = self.first(x)
        skips = []
        for block, td in zip(self.down_blocks, self.tds):
            x = block(x)
            skips.append(x)
            x = td(x)
        x = self.bottleneck(x)
        for tu, block in zip(self.tus, self.up_blocks):
            x = block(torch.cat([tu(x), skips.pop()], dim=1))
        return self.output(x)


def spec(name, tiny):
    """Batch, height, width, channels and classes of a model (0 classes: denoising)."""
    if name == "unet":
        return (4 if tiny else 256), 28, 28, 1, 0
    if name == "fcdensenet":
        return (2, 32, 64, 4, 19) if tiny else (4, 128, 256, 4, 19)
    raise SystemExit(f"peer_torch: unknown model {name!r}")


def time_model(name, steps, warmup, tiny, device):
    batch, h, w, c, classes = spec(name, tiny)
    torch.manual_seed(0)
    model = UNet() if name == "unet" else FCDenseNet(cin=c, classes=classes)
    model = model.to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, eps=1e-7)

    xs = [torch.rand(batch, c, h, w, device=device).contiguous(memory_format=torch.channels_last)
          for _ in range(4)]
    ys = [torch.randint(0, max(classes, 1), (batch, h, w), device=device) for _ in range(4)]

    def step(i):
        x = xs[i % len(xs)]
        opt.zero_grad(set_to_none=True)
        if classes == 0:
            noisy = torch.clamp(x + NOISE_SIGMA * torch.randn_like(x), 0, 1)
            loss = F.mse_loss(model(noisy), x)
        else:
            loss = F.cross_entropy(model(x), ys[i % len(ys)])
        loss.backward()
        opt.step()
        return loss

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    model.train()
    start = time.perf_counter()
    step(0).item()
    compile_s = time.perf_counter() - start
    for i in range(1, warmup):
        step(i).item()
    sync()
    start = time.perf_counter()
    loss = None
    for i in range(steps):
        loss = step(i)
    loss = loss.item()
    sync()
    elapsed = time.perf_counter() - start
    return {
        "framework": "pytorch", "model": name, "backend": device.type, "batch": batch,
        "shape": [h, w, c], "steps": steps, "compile_s": compile_s,
        "step_ms": elapsed * 1000 / steps, "images_per_s": batch * steps / elapsed, "loss": loss,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--models", default="unet,fcdensenet")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--tiny", action="store_true", help="tiny shapes, a check that it runs")
    p.add_argument("--device", default="auto", help="cuda, cpu or auto")
    p.add_argument("--require-gpu", action="store_true")
    p.add_argument("--json", default="", help="append the JSON lines to this file, not stdout")
    a = p.parse_args()

    if a.device == "auto":
        a.device = "cuda" if torch.cuda.is_available() else "cpu"
    if a.require_gpu and a.device != "cuda":
        raise SystemExit("peer_torch: no CUDA device")
    device = torch.device(a.device)
    torch.backends.cudnn.benchmark = True
    print(f"peer_torch: torch {torch.__version__} on {device}", file=sys.stderr)

    out = open(a.json, "a") if a.json else None
    for name in [m for m in a.models.split(",") if m]:
        line = json.dumps(time_model(name, a.steps, a.warmup, a.tiny, device))
        if out:
            out.write(line + "\n")
            out.flush()
        else:
            print(line)


if __name__ == "__main__":
    main()
