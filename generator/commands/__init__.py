"""The generator side of the `gantry` CLI: one module per verb, each exposing `command`."""
