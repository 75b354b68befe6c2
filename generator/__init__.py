"""Gantry's generator: load the catalog, validate it, index it and build the static site."""

__version__ = "0.1.0"
