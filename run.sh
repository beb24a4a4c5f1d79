#!/usr/bin/env bash
# Tongban developer entry point: the README's two commands.
#   ./run.sh demo   set up (system packages, virtualenv) and run the kiosk demo
#   ./run.sh test   set up and run lint, import contracts and the test suite
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
  *)
    echo "usage: ./run.sh demo | ./run.sh test [pytest args]" >&2
    exit 2
    ;;
esac
