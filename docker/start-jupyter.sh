#!/bin/sh
# Starts JupyterLab in the dlexp image: on JUPYTER_IP:JUPYTER_PORT, in the notebooks folder,
# never without a token. JUPYTER_TOKEN, when set, is the token; otherwise JupyterLab makes a
# random one and prints the address to open with it.
set -eu

if [ "${JUPYTER_TOKEN+set}" = set ] && [ -z "${JUPYTER_TOKEN}" ]; then
	echo "start-jupyter: JUPYTER_TOKEN is empty; set a token or leave it unset for a random one" >&2
	exit 2
fi

exec jupyter lab \
	--no-browser \
	--ip="${JUPYTER_IP:-0.0.0.0}" \
	--port="${JUPYTER_PORT:-8888}" \
	--ServerApp.root_dir="${JUPYTER_ROOT:-/home/dlexp/notebooks}" \
	"$@"
