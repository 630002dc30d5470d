#!/usr/bin/env bash
# Benchmarks dlexp on a GPU beside JAX and PyTorch.
#
# On a machine with an NVIDIA GPU, Go, and JAX (with its CUDA plugin) and PyTorch installed for
# $PYTHON (default python3): builds bench/gpubench, trains the MNIST denoiser UNet (batch 256)
# and FC-DenseNet103 (128x256 color plus disparity, batch 4) for a fixed number of steps on
# XLA/CUDA, the same models in JAX and in PyTorch, prints the images/s of each and the ratios in
# one table, then the wall time of 25 epochs of the MNIST denoiser. Fits in 8 minutes.
#
# usage: bench/gpu.sh [--check] [--steps N] [--epochs N] [--models unet,fcdensenet]
#
#   --check   dry run: build everything, run every part on tiny shapes on whatever backend
#             this machine has, check the peer scripts; exits 0 on a machine without a GPU.
#
# Results (JSON lines and the table) go to $BENCH_OUT (default out/gpubench). Without Go on
# the machine, a bin/gpubench built elsewhere (go build -o bin/gpubench ./bench/gpubench) is
# used. MNIST for the epochs comes from $MNIST: "auto" (default: the data cache, then the Go
# module), a folder holding the four IDX .gz files, or "synthetic" (random images, same shapes).
set -euo pipefail

cd "$(dirname "$0")/.."

check=0
steps=50
epochs=25
models=unet,fcdensenet
while [[ $# -gt 0 ]]; do
	case "$1" in
	--check) check=1 ;;
	--steps) steps="$2"; shift ;;
	--epochs) epochs="$2"; shift ;;
	--models) models="$2"; shift ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "gpu.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

PYTHON="${PYTHON:-python3}"
out="${BENCH_OUT:-out/gpubench}"
mkdir -p "$out" bin
rm -f "$out"/*.jsonl
failed=()

say() { printf 'gpu.sh: %s\n' "$*" >&2; }

# build makes bin/gpubench with cgo, so that the xla backend is in it.
build() {
	if command -v go >/dev/null 2>&1; then
		say "building bench/gpubench ($(go version | cut -d' ' -f3))"
		if CGO_ENABLED=1 timeout 180 go build -o bin/gpubench.new ./bench/gpubench; then
			mv bin/gpubench.new bin/gpubench
			return 0
		fi
		if [[ -x bin/gpubench ]]; then
			say "go build failed: using the bin/gpubench already there, built earlier"
			return 0
		fi
		say "go build failed"
		return 1
	fi
	if [[ -x bin/gpubench ]]; then
		say "no go command: using the prebuilt bin/gpubench"
		return 0
	fi
	say "no go command and no bin/gpubench"
	return 1
}

# has_gpu reports whether an NVIDIA GPU is visible.
has_gpu() {
	compgen -G '/dev/nvidia[0-9]*' >/dev/null && return 0
	command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'
}

# has_module reports whether $PYTHON imports the module.
has_module() {
	"$PYTHON" -c "import $1" >/dev/null 2>&1
}

# stage runs a command under a time limit, recording a failure instead of stopping.
stage() {
	local name="$1" limit="$2"
	shift 2
	say "$name"
	if ! timeout "$limit" "$@"; then
		say "$name failed or ran past ${limit}s"
		failed+=("$name")
	fi
}

build

# The backend choice and what its plugin needs, for every later process.
bin/gpubench env >"$out/env.sh"
cat "$out/env.sh" >&2
# shellcheck disable=SC1091
source "$out/env.sh"

if [[ $check -eq 1 ]]; then
	"$PYTHON" - bench/peer_jax.py bench/peer_torch.py <<-'EOF' || failed+=("peer syntax")
		import ast, sys
		for path in sys.argv[1:]:
		    ast.parse(open(path).read(), path)
	EOF
	stage "dlexp check (tiny shapes)" 300 \
		bin/gpubench check -models "$models" -json "$out/dlexp.jsonl"
	for peer in jax:jax torch:torch; do
		module="${peer%%:*}"
		script="bench/peer_${peer##*:}.py"
		if has_module "$module"; then
			stage "$script check (tiny shapes)" 120 \
				"$PYTHON" "$script" --tiny --steps 2 --warmup 1 --models "$models" \
				--json "$out/${module}.jsonl"
		else
			say "$module is not installed for $PYTHON: $script only syntax-checked"
		fi
	done
	if compgen -G "$out/*.jsonl" >/dev/null; then
		bin/gpubench table "$out"/*.jsonl | tee "$out/table.txt"
	fi
	if [[ ${#failed[@]} -gt 0 ]]; then
		say "check failed: ${failed[*]}"
		exit 1
	fi
	if has_gpu; then
		say "check passed; a GPU is present: run bench/gpu.sh without --check to benchmark"
	else
		say "no NVIDIA GPU found: dry run only, everything builds and trains on tiny shapes"
	fi
	exit 0
fi

if ! has_gpu; then
	say "no NVIDIA GPU found (no /dev/nvidia0, no nvidia-smi GPU); try --check"
	exit 1
fi

# dlexp on XLA/CUDA first, then the peers, one at a time so they do not share the GPU.
GOPROXY=off stage "dlexp: $models, $steps steps, $epochs MNIST epochs" 240 \
	bin/gpubench run -require-gpu -models "$models" -steps "$steps" -epochs "$epochs" \
	-mnist "${MNIST:-auto}" -json "$out/dlexp.jsonl"
if has_module jax; then
	stage "JAX: $models" 120 "$PYTHON" bench/peer_jax.py --require-gpu --models "$models" \
		--steps "$steps" --json "$out/jax.jsonl"
else
	say "jax is not installed for $PYTHON: skipped"
	failed+=("jax missing")
fi
if has_module torch; then
	stage "PyTorch: $models" 90 "$PYTHON" bench/peer_torch.py --require-gpu --models "$models" \
		--steps "$steps" --json "$out/torch.jsonl"
else
	say "torch is not installed for $PYTHON: skipped"
	failed+=("torch missing")
fi

if compgen -G "$out/*.jsonl" >/dev/null; then
	echo
	bin/gpubench table "$out"/*.jsonl | tee "$out/table.txt"
fi
if [[ ${#failed[@]} -gt 0 ]]; then
	say "incomplete: ${failed[*]}"
	exit 1
fi
