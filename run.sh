#!/usr/bin/env bash
# Tongban developer entry point: the README's two commands.
#   ./run.sh demo   set up (system packages, virtualenv) and run the kiosk demo
#   ./run.sh test   set up and run lint, import contracts and the test suite
#   ./run.sh bundle set up, build the PyInstaller bundle dist/tongban (build.spec), smoke-test it
# Extra arguments after "test" go to pytest.
set -euo pipefail
cd "$(dirname "$0")"

cmd=${1:-}
shift || true

case "$cmd" in
  demo)
    scripts/bootstrap.sh run
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      # The kiosk in a window, in demo mode: the reference central platform on localhost,
      # the terminal enrolled at it, simulated devices (F12 or the identify screen's demo
      # cards). Its data stays in .demo-data/ in this checkout, never in a real terminal's.
      exec .venv/bin/kiosk --data-dir "${KIOSK_DEMO_DATA_DIR:-$PWD/.demo-data}" run --demo --windowed "$@"
    fi
    echo "run.sh: no display (DISPLAY/WAYLAND_DISPLAY unset): showing the headless walk-through instead." >&2
    echo "run.sh: on a desktop, or with 'xvfb-run ./run.sh demo', this command opens the kiosk itself." >&2
    exec .venv/bin/python -m kiosk.demo "$@"
    ;;
  test)
    scripts/bootstrap.sh test
    .venv/bin/ruff check .
    .venv/bin/lint-imports
    exec .venv/bin/python -m pytest "$@"
    ;;
  bundle)
    # The test set-up: the smoke test needs kiosk-central from .venv and the Debian
    # packages (libzbar0 is copied into the bundle from the build machine).
    scripts/bootstrap.sh test
    .venv/bin/python -m pip install -q -e ".[bundle]"
    .venv/bin/pyinstaller --noconfirm --log-level WARN build.spec
    du -sh dist/tongban
    exec scripts/bundle_smoke.sh dist/tongban
    ;;
  *)
    echo "usage: ./run.sh demo | ./run.sh test [pytest args] | ./run.sh bundle" >&2
    exit 2
    ;;
esac
