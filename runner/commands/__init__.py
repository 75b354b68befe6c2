"""The runner's `gantry` verbs: serve, run, users, apikeys, discover."""
