#!/bin/sh
# The kiosk's X session (run by xinit from tongban-xorg.service): no desktop, no window
# manager; the kiosk (tongban-kiosk.service) opens its own full-screen window on :0.
# This script only keeps the screen on and then waits: X ends when it ends.
set -eu
# Never blank or power down the screen: citizens walk up at any time.
xset s off
xset s noblank
xset -dpms
# Black background while the kiosk restarts (instead of X's grey weave).
xsetroot -solid black 2>/dev/null || true
# Keep the session alive; systemd restarts X (and so the kiosk) if this is killed.
exec sleep infinity
