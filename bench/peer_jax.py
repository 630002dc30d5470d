#!/usr/bin/env python3
"""JAX peer of bench/gpubench: the same models, shapes, batches and optimizer, timed the same
way, written as the same JSON lines. Plain JAX (no Flax or Optax needed).

Models (mirroring mlx/unet and mlx/fcdensenet):
  unet        MNIST denoiser: residual UNet, depth 2, 16/32/64 channels, batch norm, ReLU,
              up-sampling by a 1x1 convolution and depth-to-space; Gaussian noise (sigma 0.3)
              added on the device, clipped to [0, 1]; mean squared error. Batch 256 of 28x28x1.
  fcdensenet  FC-DenseNet103 (Jegou et al. 2017), growth 16, 48 first filters, dropout 0.2,
              3x3 transposed convolutions of stride 2 up, on 128x256 images of 4 channels
              (color and disparity), batch 4, 19 classes, per-pixel softmax cross-entropy.
Adam with learning rate 1e-3, float32, channels last (NHWC), one jitted step with its
parameters donated.
"""

import argparse
import functools
import json
import math
import sys
import time

import jax
import jax.numpy as jnp
from jax import lax

NOISE_SIGMA = 0.3
LEARNING_RATE = 1e-3
BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-7
BN_MOMENTUM, BN_EPSILON = 0.99, 1e-3
DROPOUT = 0.2

# Typed keys where this JAX has them, the older raw keys otherwise.
new_key = getattr(jax.random, "key", jax.random.PRNGKey)


class Layers:
    """Layers named by call order. Without params it creates them (init); with params it reads
    them, and collects the updated batch-norm statistics in new_state."""

    def __init__(self, key, params=None, state=None):
        self.creating = params is None
        self.params = {} if params is None else params
        self.state = {} if state is None else state
        self.new_state = {}
        self.key = key
        self.count = 0

    def _name(self, kind):
        self.count += 1
        return f"{self.count:04d}_{kind}"

    def _param(self, name, shape, init):
        if self.creating:
            self.key, sub = jax.random.split(self.key)
            self.params[name] = init(sub, shape)
        return self.params[name]

    def conv(self, x, cout, k=3, bias=True, up=False):
        """A k x k convolution, "same" padded; with up, a transposed one of stride 2 (the
        input dilated by zeros), doubling height and width."""
        name = self._name("conv")
        cin = x.shape[-1]
        fan_in = k * k * cin

        def he(key, shape):
            return jax.random.normal(key, shape, jnp.float32) * math.sqrt(2.0 / fan_in)

        w = self._param(name + "/w", (k, k, cin, cout), he)
        if up:
            y = lax.conv_general_dilated(x, w, (1, 1), ((1, 2), (1, 2)), lhs_dilation=(2, 2),
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        else:
            y = lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        if bias:
            y = y + self._param(name + "/b", (cout,), lambda _, s: jnp.zeros(s, jnp.float32))
        return y

    def batch_norm(self, x):
        name = self._name("bn")
        c = x.shape[-1]
        gamma = self._param(name + "/gamma", (c,), lambda _, s: jnp.ones(s, jnp.float32))
        beta = self._param(name + "/beta", (c,), lambda _, s: jnp.zeros(s, jnp.float32))
        if self.creating:
            self.state[name + "/mean"] = jnp.zeros((c,), jnp.float32)
            self.state[name + "/var"] = jnp.ones((c,), jnp.float32)
        mean = jnp.mean(x, axis=(0, 1, 2))
        var = jnp.var(x, axis=(0, 1, 2))
        for stat, value in (("/mean", mean), ("/var", var)):
            old = self.state[name + stat]
            self.new_state[name + stat] = (BN_MOMENTUM * old +
                                           (1 - BN_MOMENTUM) * lax.stop_gradient(value))
        return (x - mean) * lax.rsqrt(var + BN_EPSILON) * gamma + beta

    def dropout(self, x, rate=DROPOUT):
        key = jax.random.fold_in(self.key, self._name_count())
        keep = jax.random.bernoulli(key, 1 - rate, x.shape)
        return jnp.where(keep, x / (1 - rate), 0)

    def _name_count(self):
        self.count += 1
        return self.count


def max_pool(x):
    init = jnp.array(-jnp.inf, x.dtype)
    return lax.reduce_window(x, init, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def up_sample(L, x, c):
    """2x up-sampling: a 1x1 convolution to 4c channels, then depth-to-space."""
    b, h, w, _ = x.shape
    y = L.conv(x, 4 * c, k=1)
    y = y.reshape(b, h, w, 2, 2, c).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(b, 2 * h, 2 * w, c)


def conv_block(L, x, c):
    """Two 3x3 convolutions with batch norm, a residual path (1x1 when channels change)."""
    shortcut = x if x.shape[-1] == c else L.conv(x, c, k=1)
    y = jax.nn.relu(L.batch_norm(L.conv(x, c, bias=False)))
    y = L.batch_norm(L.conv(y, c, bias=False))
    return jax.nn.relu(y + shortcut)


def unet(L, x, depth=2, base=16, cout=1):
    ch = [base << i for i in range(depth + 1)]
    skips = []
    for level in range(depth):
        x = conv_block(L, x, ch[level])
        skips.append(x)
        x = max_pool(x)
    x = conv_block(L, x, ch[depth])
    for level in reversed(range(depth)):
        x = jnp.concatenate([skips.pop(), up_sample(L, x, ch[level])], axis=-1)
        x = conv_block(L, x, ch[level])
    return L.conv(x, cout, k=1)


def dense_block(L, x, layers, growth, new_only):
    new = []
    for _ in range(layers):
        y = L.dropout(L.conv(jax.nn.relu(L.batch_norm(x)), growth))
        x = jnp.concatenate([x, y], axis=-1)
        new.append(y)
    return jnp.concatenate(new, axis=-1) if new_only else x


def fc_densenet(L, x, classes=19, down=(4, 5, 7, 10, 12), bottleneck=15, growth=16, first=48):
    x = L.conv(x, first)
    skips = []
    for n in down:
        x = dense_block(L, x, n, growth, new_only=False)
        skips.append(x)
        c = x.shape[-1]
        x = max_pool(L.dropout(L.conv(jax.nn.relu(L.batch_norm(x)), c, k=1)))
    x = dense_block(L, x, bottleneck, growth, new_only=True)
    for i, n in enumerate(reversed(down)):
        x = jnp.concatenate([L.conv(x, x.shape[-1], up=True), skips.pop()], axis=-1)
        x = dense_block(L, x, n, growth, new_only=i < len(down) - 1)
    return L.conv(x, classes, k=1)


def spec(name, tiny):
    """Batch, height, width, channels and classes of a model (0 classes: denoising)."""
    if name == "unet":
        return (4 if tiny else 256), 28, 28, 1, 0
    if name == "fcdensenet":
        return (2, 32, 64, 4, 19) if tiny else (4, 128, 256, 4, 19)
    raise SystemExit(f"peer_jax: unknown model {name!r}")


def time_model(name, steps, warmup, tiny):
    batch, h, w, c, classes = spec(name, tiny)

    def forward(L, x):
        return unet(L, x) if classes == 0 else fc_densenet(L, x, classes=classes)

    key = new_key(0)
    init = Layers(key)
    forward(init, jnp.zeros((2, h, w, c), jnp.float32))
    params, state = init.params, init.state
    opt = (jax.tree_util.tree_map(jnp.zeros_like, params),
           jax.tree_util.tree_map(jnp.zeros_like, params))

    def loss_fn(params, state, x, y, key):
        L = Layers(key, params, state)
        if classes == 0:
            noise = jax.random.normal(jax.random.fold_in(key, 1_000_003), x.shape, jnp.float32)
            noisy = jnp.clip(x + NOISE_SIGMA * noise, 0, 1)
            loss = jnp.mean((forward(L, noisy) - x) ** 2)
        else:
            logp = jax.nn.log_softmax(forward(L, x), axis=-1)
            loss = -jnp.mean(jnp.take_along_axis(logp, y[..., None], axis=-1))
        return loss, L.new_state

    @functools.partial(jax.jit, donate_argnums=(0, 1, 2))
    def train_step(params, opt, state, x, y, t):
        key = jax.random.fold_in(new_key(1), t.astype(jnp.int32))
        (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, state, x, y, key)
        m, v = opt
        m = jax.tree_util.tree_map(lambda m, g: BETA1 * m + (1 - BETA1) * g, m, grads)
        v = jax.tree_util.tree_map(lambda v, g: BETA2 * v + (1 - BETA2) * g * g, v, grads)
        t1 = t + 1
        lr = LEARNING_RATE * jnp.sqrt(1 - BETA2 ** t1) / (1 - BETA1 ** t1)
        params = jax.tree_util.tree_map(
            lambda p, m, v: p - lr * m / (jnp.sqrt(v) + EPSILON), params, m, v)
        return params, (m, v), state, loss

    keys = jax.random.split(new_key(2), 8)
    xs = [jax.random.uniform(keys[i], (batch, h, w, c), jnp.float32) for i in range(4)]
    ys = [jax.random.randint(keys[4 + i], (batch, h, w), 0, max(classes, 1)) for i in range(4)]

    def step(i):
        nonlocal params, opt, state
        params, opt, state, loss = train_step(params, opt, state, xs[i % 4], ys[i % 4],
                                              jnp.asarray(i, jnp.float32))
        return loss

    start = time.perf_counter()
    step(0).block_until_ready()
    compile_s = time.perf_counter() - start
    for i in range(1, warmup):
        step(i).block_until_ready()
    start = time.perf_counter()
    loss = None
    for i in range(steps):
        loss = step(warmup + i)
    loss = float(loss.block_until_ready())
    elapsed = time.perf_counter() - start
    return {
        "framework": "jax", "model": name, "backend": jax.devices()[0].platform, "batch": batch,
        "shape": [h, w, c], "steps": steps, "compile_s": compile_s,
        "step_ms": elapsed * 1000 / steps, "images_per_s": batch * steps / elapsed, "loss": loss,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--models", default="unet,fcdensenet")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--tiny", action="store_true", help="tiny shapes, a check that it runs")
    p.add_argument("--require-gpu", action="store_true")
    p.add_argument("--json", default="", help="append the JSON lines to this file, not stdout")
    a = p.parse_args()

    platform = jax.devices()[0].platform
    if a.require_gpu and platform != "gpu":
        raise SystemExit(f"peer_jax: no GPU (JAX runs on {platform})")
    print(f"peer_jax: jax {jax.__version__} on {jax.devices()[0]}", file=sys.stderr)

    out = open(a.json, "a") if a.json else None
    for name in [m for m in a.models.split(",") if m]:
        line = json.dumps(time_model(name, a.steps, a.warmup, a.tiny))
        if out:
            out.write(line + "\n")
            out.flush()
        else:
            print(line)


if __name__ == "__main__":
    main()
