"""Validation of the catalog: envelope and kind schemas, names, duplicates, references and
Action inputs, every problem reported at once with its file, line and column."""

from .catalog import ValidationResult, validate_catalog, validate_entities
from .references import known_refs

__all__ = ["ValidationResult", "known_refs", "validate_catalog", "validate_entities"]
