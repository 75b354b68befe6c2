"""Scorecards: maturity levels defined as `kind: Scorecard` entities, evaluated over the index.

model (what a scorecard says) → checks (each rule as one SQL query) → evaluate (the
`scorecard_results` and `scorecard_levels` tables, whole or for a few entities) → read (what
the site, the API and `gantry score` show). `sql_guard` runs a rule's own SQL safely.
"""
