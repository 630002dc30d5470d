#!/bin/sh
# Installs the peers of the CPU benchmark when missing: PyTorch and numpy for the Python named
# by PYTHON (default /usr/bin/python3), from the Debian packages python3-torch and
# python3-numpy. Elsewhere (no apt-get) it says what to install and stops.
set -eu

PYTHON=${PYTHON:-/usr/bin/python3}

if "$PYTHON" -c "import torch, numpy" 2>/dev/null; then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "bench: PyTorch and numpy missing for $PYTHON, and no apt-get to install them" >&2
	exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "bench: need root (or sudo) to apt-get install python3-torch" >&2
		exit 1
	fi
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show python3-torch >/dev/null 2>&1; then
	echo "bench: package lists do not know python3-torch, running apt-get update"
	$sudo apt-get update -q >/dev/null
fi
echo "bench: apt-get install python3-torch python3-numpy"
$sudo apt-get install -y -q --no-install-recommends python3-torch python3-numpy >/dev/null
if ! "$PYTHON" -c "import torch, numpy" 2>/dev/null; then
	echo "bench: python3-torch is installed but $PYTHON cannot import it; set PYTHON" >&2
	exit 1
fi
