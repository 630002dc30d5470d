#!/bin/sh
# Installs what the kernel needs from the operating system, only when it is missing:
# Jupyter (notebook, nbconvert, client, nbclient, kernel test suite) for the Python named by
# PYTHON (default /usr/bin/python3), and npm for the offline copy of ECharts.
# Packages come from apt-get (Debian, Ubuntu); `apt-get update` runs only when a package is
# unknown to the local lists. Elsewhere the script says what to install and stops.
set -eu

PYTHON=${PYTHON:-/usr/bin/python3}
JUPYTER_PACKAGES="jupyter-notebook jupyter-nbconvert jupyter-client python3-nbclient
	python3-jupyter-kernel-test"
JUPYTER_MODULES="notebook nbconvert nbclient jupyter_client jupyter_kernel_test"

missing=""

if "$PYTHON" -c "import $(echo "$JUPYTER_MODULES" | tr ' ' ',')" 2>/dev/null; then
	echo "deps: jupyter present for $PYTHON, skipped"
else
	missing="$JUPYTER_PACKAGES"
fi

if command -v npm >/dev/null 2>&1; then
	echo "deps: npm present, skipped"
else
	missing="$missing npm"
fi

[ -z "$missing" ] && exit 0
missing=$(echo $missing)

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing, and no apt-get to install them: $missing" >&2
	echo "deps: install Jupyter (notebook, nbconvert, nbclient, jupyter_client," \
		"jupyter_kernel_test) for $PYTHON, and npm; or set PYTHON" >&2
	exit 1
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "deps: need root (or sudo) to apt-get install $missing" >&2
		exit 1
	fi
fi

# Only the packages dpkg does not list as installed.
todo=""
for p in $missing; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		todo="$todo $p"
	fi
done
if [ -z "$todo" ]; then
	echo "deps: packages $missing are installed but do not work for $PYTHON; set PYTHON" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
for p in $todo; do
	if ! apt-cache show "$p" >/dev/null 2>&1; then
		echo "deps: package lists do not know $p, running apt-get update"
		$sudo apt-get update -q >/dev/null
		break
	fi
done
echo "deps: apt-get install$todo"
$sudo apt-get install -y -q --no-install-recommends $todo >/dev/null
echo "deps: installed$todo"
