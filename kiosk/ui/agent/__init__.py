"""The agent station (staff mode) of the kiosk application: ``kiosk run --agent``; see docs/agent.md."""
