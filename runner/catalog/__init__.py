"""The catalog as the runner holds it: records, index, site, writes and the one Git layer."""
