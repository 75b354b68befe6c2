"""The REST API: one Flask blueprint per area (`bp` in each module)."""
