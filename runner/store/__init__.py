"""The runner's SQLite store: one file; the tables are listed in `runner.store.schema`."""
