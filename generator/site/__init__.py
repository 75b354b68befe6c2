"""The static browsing site: pages rendered from the DuckDB index, plus a Pagefind search index."""
