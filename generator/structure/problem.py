"""A problem found in the catalog, at a position a person can open."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of the loader or validator.

    `file` is the display path (the catalog argument joined with the file's relative path),
    `line` and `column` are 1-based. `rule` is a short stable identifier scripts can match.
    """

    file: str
    line: int
    column: int
    message: str
    rule: str
    severity: str = "error"

    def as_dict(self) -> dict:
        return asdict(self)

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.rule, self.message)
