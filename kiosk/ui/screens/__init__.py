"""The citizen's screens, one module each, in the order of the journey."""
