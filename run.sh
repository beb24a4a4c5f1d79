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
