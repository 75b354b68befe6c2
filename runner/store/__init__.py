"""The runner's SQLite store: one file, one `SCHEMA` per module listed below."""

SCHEMA_MODULES = ("users", "sessions", "apikeys", "audit", "history", "runs", "settings")
