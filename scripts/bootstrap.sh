#!/usr/bin/env bash
# Set up a machine for Tongban: Debian packages, then the virtualenv in .venv.
#   scripts/bootstrap.sh run    what the kiosk needs to run
#   scripts/bootstrap.sh test   that plus what the tests need (poppler-utils, Xvfb)
# As root, missing Debian packages are installed with apt-get; otherwise the exact
# command is printed and the script stops, because nothing would work without them.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${1:-run}

# Qt offscreen/xcb platform, EGL/GL, fonts, D-Bus (see shared ENVIRONMENT.md)
run_pkgs=(
  python3 python3-venv
  libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0
  libxkbcommon0 libxkbcommon-x11-0 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4
  libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0
  libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1
  libpulse0 libzbar0 fontconfig-config
  libusb-1.0-0
)
# postgresql: the central platform's tests and load test also run on a throwaway cluster
test_pkgs=(poppler-utils xvfb xauth postgresql)

pkgs=("${run_pkgs[@]}")
if [ "$profile" = test ]; then
  pkgs+=("${test_pkgs[@]}")
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${pkgs[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
      *"install ok installed"*) ;;
      *) missing+=("$p") ;;
    esac
  done
else
  echo "bootstrap: not a Debian/Ubuntu system (no dpkg-query); install the equivalents of: ${pkgs[*]}" >&2
fi

# python3-venv is only needed when the interpreter cannot make a venv by itself
# (pyenv and python.org builds can).
if python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do
    [ "$p" = python3-venv ] || [ "$p" = python3 ] || filtered+=("$p")
  done
  missing=("${filtered[@]}")
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: these Debian packages are missing. Install them, then run this again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "bootstrap: Python 3.11 or newer is needed; python3 is $(python3 --version 2>&1)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv" >&2
  python3 -m venv .venv
fi

# Reinstall only when pyproject.toml changed since the last install.
stamp=.venv/.tongban-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing Python packages into .venv (log: .venv/pip-install.log)" >&2
  if ! { .venv/bin/python -m pip install --upgrade pip \
         && .venv/bin/python -m pip install -e ".[dev]"; } >.venv/pip-install.log 2>&1; then
    tail -n 30 .venv/pip-install.log >&2
    echo "bootstrap: installing Python packages failed; the full log is .venv/pip-install.log" >&2
    exit 1
  fi
  touch "$stamp"
fi
