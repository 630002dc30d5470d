#!/usr/bin/env python3
"""Peers of the dlexp CPU benchmark (bench/cpu): the same cases in PyTorch and numpy.

Models mirror mlx/unet and mlx/fcdensenet layer for layer: He-normal weights (fan in) and zero
biases, batch normalisation with epsilon 1e-3 and momentum 0.01 (GoMLX's 0.99), Adam with
learning rate 1e-3, betas 0.9/0.999 and epsilon 1e-7, float32, the shapes and batch given by
the Go side in --params. They run in whichever of PyTorch's memory formats (channels first or
last) is faster for the case on this machine. Data cases read the same gzipped IDX files
(MNIST) and downscale a synthetic frame of the same size (Cityscapes).

Prints one JSON line: the timed seconds of each repeat, the CPU seconds per repeat, the items
(images or frames) per repeat, the trainable parameters of a model and the library version.
"""

import argparse
import gzip
import json
import struct
import sys
import time

import numpy as np

def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--case", required=True)
    p.add_argument("--impl", required=True)
    p.add_argument("--params", required=True, help="JSON parameters of the case")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args()


def time_repeats(warmup, repeats, fn):
    """Runs fn warmup times, then times it repeats times: (seconds, cpu seconds per repeat)."""
    for _ in range(warmup):
        fn()
    seconds = []
    cpu0 = time.process_time()
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t0)
    return seconds, (time.process_time() - cpu0) / repeats


# Models (PyTorch) -------------------------------------------------------------------------


def build_torch():
    """Defines the PyTorch modules; imported lazily so that data cases need only numpy."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    class ResBlock(nn.Module):
        """mlx/unet convBlock: two 3x3 convolutions with batch norm, residual path."""

        def __init__(self, cin, c):
            super().__init__()
            self.shortcut = nn.Conv2d(cin, c, 1) if cin != c else None
            self.conv1, self.bn1 = nn.Conv2d(cin, c, 3, padding=1, bias=False), bn(c)
            self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), bn(c)

        def forward(self, x):
            skip = x if self.shortcut is None else self.shortcut(x)
            y = F.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(y)) + skip)

    class UNet(nn.Module):
        """mlx/unet: encoder blocks and 2x2 max pooling, bottleneck, up-sampling by a 1x1
        convolution and depth-to-space, skips joined by concatenation, 1x1 output (with a
        sigmoid for the image presets)."""

        def __init__(self, cin, depth, base, unit_output):
            super().__init__()
            self.unit_output = unit_output
            ch = [base << i for i in range(depth + 1)]
            self.down = nn.ModuleList()
            c = cin
            for level in range(depth):
                self.down.append(ResBlock(c, ch[level]))
                c = ch[level]
            self.bottleneck = ResBlock(c, ch[depth])
            self.up = nn.ModuleList()
            self.dec = nn.ModuleList()
            for level in reversed(range(depth)):
                self.up.append(nn.Conv2d(ch[level + 1], 4 * ch[level], 1))
                self.dec.append(ResBlock(2 * ch[level], ch[level]))
            self.out = nn.Conv2d(ch[0], cin, 1)

        def forward(self, x):
            skips = []
            for block in self.down:
                x = block(x)
                skips.append(x)
                x = F.max_pool2d(x, 2)
            x = self.bottleneck(x)
            for up, dec in zip(self.up, self.dec):
                x = F.pixel_shuffle(up(x), 2)
                x = dec(torch.cat([skips.pop(), x], 1))
            x = self.out(x)
            return torch.sigmoid(x) if self.unit_output else x

    class DenseLayer(nn.Sequential):
        """BN, ReLU, 3x3 convolution of growth filters, dropout."""

        def __init__(self, cin, growth, dropout):
            super().__init__(bn(cin), nn.ReLU(), nn.Conv2d(cin, growth, 3, padding=1),
                             nn.Dropout(dropout))

    class DenseBlock(nn.Module):
        def __init__(self, cin, n, growth, dropout):
            super().__init__()
            self.layers = nn.ModuleList(
                DenseLayer(cin + i * growth, growth, dropout) for i in range(n))

        def forward(self, x):
            new = []
            for layer in self.layers:
                y = layer(x)
                new.append(y)
                x = torch.cat([x, y], 1)
            return x, new

    class TransitionDown(nn.Sequential):
        def __init__(self, c, dropout):
            super().__init__(bn(c), nn.ReLU(), nn.Conv2d(c, c, 1), nn.Dropout(dropout),
                             nn.MaxPool2d(2))

    class TransitionUp(nn.Module):
        """Zero insertion (each pixel at the top-left of a 2x2 cell) and a 3x3 convolution."""

        def __init__(self, cin, cout):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, 3, padding=1)

        def forward(self, x):
            b, c, h, w = x.shape
            y = x.new_zeros(b, c, 2 * h, 2 * w)
            y[:, :, ::2, ::2] = x
            return self.conv(y)

    class FCDenseNet(nn.Module):
        """mlx/fcdensenet (Jegou et al. 2017)."""

        def __init__(self, cin, classes, first, growth, down, bottleneck, dropout):
            super().__init__()
            self.first = nn.Conv2d(cin, first, 3, padding=1)
            c = first
            self.down_blocks, self.transitions_down = nn.ModuleList(), nn.ModuleList()
            skip_channels = []
            for n in down:
                self.down_blocks.append(DenseBlock(c, n, growth, dropout))
                c += n * growth
                skip_channels.append(c)
                self.transitions_down.append(TransitionDown(c, dropout))
            self.bottleneck = DenseBlock(c, bottleneck, growth, dropout)
            up_c = bottleneck * growth
            self.transitions_up, self.up_blocks = nn.ModuleList(), nn.ModuleList()
            for level in reversed(range(len(down))):
                self.transitions_up.append(TransitionUp(up_c, up_c))
                c = up_c + skip_channels[level]
                self.up_blocks.append(DenseBlock(c, down[level], growth, dropout))
                up_c = down[level] * growth
            self.classifier = nn.Conv2d(c + up_c, classes, 1)

        def forward(self, x):
            x = self.first(x)
            skips = []
            for block, td in zip(self.down_blocks, self.transitions_down):
                x, _ = block(x)
                skips.append(x)
                x = td(x)
            _, new = self.bottleneck(x)
            up = torch.cat(new, 1)
            for tu, block in zip(self.transitions_up, self.up_blocks):
                x = torch.cat([tu(up), skips.pop()], 1)
                x, new = block(x)
                up = torch.cat(new, 1)
            return self.classifier(x)

    def init(model):
        """He-normal weights over the fan in, zero biases (GoMLX's default initializer)."""
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        return model

    return torch, nn, UNet, FCDenseNet, init


def measure_model(p, args):
    """Times the case in the faster of PyTorch's two memory formats (channels first, the
    default, or channels last), chosen on the fastest of three steps of each after warm-up."""
    torch, nn, UNet, FCDenseNet, init = build_torch()
    torch.set_num_threads(args.threads)
    formats = {"channels first": torch.contiguous_format, "channels last": torch.channels_last}
    best, best_time = None, None
    for name in formats:
        step = model_step(torch, nn, UNet, FCDenseNet, init, p, formats[name])[0]
        seconds, _ = time_repeats(args.warmup, 3, step)
        if best is None or min(seconds) < best_time:
            best, best_time = name, min(seconds)
    step, params = model_step(torch, nn, UNet, FCDenseNet, init, p, formats[best])
    seconds, cpu = time_repeats(args.warmup, args.repeats, step)
    return {"seconds": seconds, "cpu_s": cpu, "items": p["batch"], "parameters": params,
            "version": "torch " + torch.__version__,
            "note": "%d threads, %s" % (torch.get_num_threads(), best)}


def model_step(torch, nn, UNet, FCDenseNet, init, p, memory_format):
    """Returns a function running one step of the case, and the trainable parameters."""
    torch.manual_seed(1)
    if p["model"] == "unet":
        model = UNet(p["channels"], p["depth"], p["base_channels"], p.get("unit_output", False))
    else:
        model = FCDenseNet(p["channels"], p["classes"], p["first_filters"], p["growth"],
                           p["down_layers"], p["bottleneck_layers"], p["dropout"])
    init(model)
    model = model.to(memory_format=memory_format)
    params = sum(t.numel() for t in model.parameters() if t.requires_grad)
    b, h, w, c = p["batch"], p["height"], p["width"], p["channels"]
    x = torch.rand(b, c, h, w).contiguous(memory_format=memory_format)
    if p["model"] == "unet":
        y = torch.rand(b, c, h, w).contiguous(memory_format=memory_format)
        loss_fn = nn.MSELoss()
    else:
        y = torch.randint(0, p["classes"] + 1, (b, h, w))
        loss_fn = nn.CrossEntropyLoss(ignore_index=p["classes"])  # the last id is void

    if p["mode"] == "train":
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            loss.item()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
    return step, params


# Data (numpy) -----------------------------------------------------------------------------


def read_idx(path):
    """Reads a gzipped IDX file of unsigned bytes into an array of its dimensions."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError("%s: too short for an IDX header" % path)
    zero, kind, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        raise ValueError("%s: not an IDX file of unsigned bytes" % path)
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError("%s: %d values for dimensions %s" % (path, arr.size, dims))
    return arr.reshape(dims)


def measure_mnist(p, args):
    count = [0]

    def read():
        images = read_idx(p["images"])
        labels = read_idx(p["labels"])
        if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
            raise ValueError("unexpected MNIST shapes %s, %s" % (images.shape, labels.shape))
        if labels.max() >= 10:
            raise ValueError("MNIST label out of range")
        count[0] = images.shape[0]

    seconds, cpu = time_repeats(args.warmup, args.repeats, read)
    return {"seconds": seconds, "cpu_s": cpu, "items": count[0],
            "version": "numpy " + np.__version__}


def synthetic_frame(h, w, num_labels):
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    disparity = rng.integers(1, 65536, (h, w), dtype=np.uint16)
    disparity[rng.random((h, w)) < 0.1] = 0
    patches = rng.integers(0, num_labels, (h // 16 + 1, w // 16 + 1), dtype=np.uint8)
    labels = np.repeat(np.repeat(patches, 16, 0), 16, 1)[:h, :w].copy()
    return rgb, disparity, labels


def downscale_color8(rgb, f):
    h, w, _ = rgb.shape
    blocks = rgb.reshape(h // f, f, w // f, f, 3).astype(np.float32)
    return blocks.sum(axis=(1, 3)) * np.float32(1 / (255 * f * f))


def downscale_disparity(v, f):
    h, w = v.shape
    blocks = v.reshape(h // f, f, w // f, f)
    valid = blocks > 0
    sums = np.where(valid, blocks.astype(np.float64) - 1, 0).sum(axis=(1, 3))
    counts = valid.sum(axis=(1, 3))
    out = np.zeros(sums.shape, np.float32)
    np.divide(sums, counts * 256.0, out=out, where=counts > 0, casting="unsafe")
    return out


def downscale_labels(ids, f, num_labels):
    """Most frequent id of each block, the smaller one on ties (argmax takes the first)."""
    h, w = ids.shape
    if ids.max() >= num_labels:
        raise ValueError("label id out of range")
    blocks = ids.reshape(h // f, f, w // f, f).transpose(0, 2, 1, 3).reshape(-1, f * f)
    offsets = np.arange(blocks.shape[0])[:, None] * num_labels
    counts = np.bincount((blocks + offsets).ravel(), minlength=blocks.shape[0] * num_labels)
    return counts.reshape(-1, num_labels).argmax(1).astype(np.uint8).reshape(h // f, w // f)


def measure_cityscapes(p, args):
    f, num_labels = p["factor"], p["num_labels"]
    rgb, disparity, labels = synthetic_frame(p["height"], p["width"], num_labels)

    def step():
        downscale_color8(rgb, f)
        downscale_disparity(disparity, f)
        downscale_labels(labels, f, num_labels)

    seconds, cpu = time_repeats(args.warmup, args.repeats, step)
    return {"seconds": seconds, "cpu_s": cpu, "items": 1, "version": "numpy " + np.__version__}


def main():
    args = parse_args()
    p = json.loads(args.params)
    if args.case.startswith(("unet", "fcdensenet")):
        result = measure_model(p, args)
    elif args.case == "mnist-read":
        result = measure_mnist(p, args)
    elif args.case == "cityscapes-downscale":
        result = measure_cityscapes(p, args)
    else:
        sys.exit("peer.py: unknown case %s" % args.case)
    seconds = sorted(result["seconds"])
    n = len(seconds)
    result["median_s"] = seconds[n // 2] if n % 2 else (seconds[n // 2 - 1] + seconds[n // 2]) / 2
    if result["items"] and result["median_s"] > 0:
        result["items_per_s"] = result["items"] / result["median_s"]
    result.update({"case": args.case, "impl": args.impl})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
