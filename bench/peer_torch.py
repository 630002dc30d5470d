#!/usr/bin/env python3
"""PyTorch peer of bench/gpubench: the same models, shapes, batches and optimizer, timed the
same way, written as the same JSON lines.

Models (mirroring mlx/unet and mlx/fcdensenet):
  unet        MNIST denoiser: residual UNet, depth 2, 16/32/64 channels, batch norm, ReLU,
              up-sampling by a 1x1 convolution and depth-to-space, sigmoid output; Gaussian noise (sigma 0.3)
              added on the device, clipped to [0, 1]; mean squared error. Batch 256 of 28x28x1.
  fcdensenet  FC-DenseNet103 (Jegou et al. 2017), growth 16, 48 first filters, dropout 0.2,
              zero insertion and a 3x3 convolution up, on 128x256 images of 4 channels
              (color and disparity), batch 4, 19 classes, per-pixel softmax cross-entropy.
Adam with learning rate 1e-3, float32, channels-last memory, cuDNN autotuning on.
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

NOISE_SIGMA = 0.3
LEARNING_RATE = 1e-3


# The models are those of the CPU peer (bench/cpu/peer.py), which mirrors mlx/unet and
# mlx/fcdensenet layer for layer; one definition serves both benchmarks.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cpu"))
from peer import build_torch  # noqa: E402

_, _, UNet, FCDenseNet, init = build_torch()


def make_model(name, c, classes):
    """The denoiser UNet (depth 2, 16/32/64 channels, sigmoid output) or FC-DenseNet103."""
    if name == "unet":
        return init(UNet(c, 2, 16, True))
    return init(FCDenseNet(c, classes, 48, 16, (4, 5, 7, 10, 12), 15, 0.2))


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
    model = make_model(name, c, classes)
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
