#!/usr/bin/env python3
"""Notebook case of the dlexp CPU benchmark (bench/cpu): the time of a warm cell of the
"Go (dlexp)" kernel that imports the zoo and builds the UNet denoiser, against a plain GoNB
cell (printing a line) in the same kernel.

The kernel is started with jupyter_client; each cell runs --warmup times untimed (the first
run builds the cell's module), then --repeats times timed, from the request to the kernel
going idle. Prints two JSON lines, the zoo cell ("dlexp") then the plain cell ("gonb"); when
the kernel is not installed both say so in "skipped".
"""

import argparse
import json
import time

KERNEL = "dlexp"
CELL_TIMEOUT = 600  # seconds; a cold first build of the zoo can take minutes

PLAIN_CELL = """%%
fmt.Println("ok")
"""

ZOO_CELL = """import (
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/dlexp/dlexp/mlx/backend"
	"github.com/dlexp/dlexp/mlx/train"
	"github.com/dlexp/dlexp/mlx/unet"
)

%%
b, err := backend.New()
if err != nil {
	panic(err)
}
n, err := train.CountParameters(b, func(ctx *context.Context, x *graph.Node) *graph.Node {
	return unet.Denoiser(ctx, x).Done()
}, 28, 28, 1)
if err != nil {
	panic(err)
}
fmt.Println("ok", n)
"""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--case", required=True)
    p.add_argument("--impl", default="dlexp")
    p.add_argument("--params", default="{}")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args()


def run_cell(kc, code):
    """Runs code and returns its wall time; raises when the cell fails or prints no "ok"."""
    out = []

    def hook(msg):
        kind = msg["header"]["msg_type"]
        if kind == "stream":
            out.append(msg["content"]["text"])
        elif kind == "error":
            out.append("error: " + msg["content"].get("evalue", ""))

    t0 = time.perf_counter()
    reply = kc.execute_interactive(code, timeout=CELL_TIMEOUT, output_hook=hook)
    elapsed = time.perf_counter() - t0
    text = "".join(out)
    # A panicking GoNB cell still answers "ok": read its output.
    if reply["content"]["status"] != "ok" or "panic" in text or "ok" not in text:
        raise RuntimeError("cell failed: " + text.strip()[-500:])
    return elapsed


def measure(kc, code, args):
    for _ in range(args.warmup):
        run_cell(kc, code)
    seconds = [run_cell(kc, code) for _ in range(args.repeats)]
    s = sorted(seconds)
    n = len(s)
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    return {"seconds": seconds, "median_s": med, "items": 1, "items_per_s": 1 / med}


def main():
    args = parse_args()
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel

    rows = [{"case": args.case, "impl": "dlexp", "note": "zoo cell"},
            {"case": args.case, "impl": "gonb", "note": "plain cell"}]
    if KERNEL not in KernelSpecManager().find_kernel_specs():
        for r in rows:
            r["skipped"] = "kernel %r not installed (make install)" % KERNEL
        for r in rows:
            print(json.dumps(r))
        return
    km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=120)
    try:
        # The plain cell first, so that the zoo's imports are not yet declared.
        rows[1].update(measure(kc, PLAIN_CELL, args))
        rows[0].update(measure(kc, ZOO_CELL, args))
    except Exception as e:  # reported in the table, not as a crash
        for r in rows:
            if "median_s" not in r:
                r["error"] = str(e)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    for r in rows:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
