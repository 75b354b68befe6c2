"""Gantry's runner: the REST API, auth, Git-backed writes, actions, plugins and audit."""
