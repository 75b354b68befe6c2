"""The github plugin: credentials and API access for `github-action` actions.

`settings` turns the plugin's stored configuration into `GitHubSettings`, `auth` supplies the
token of each request (a personal access token, or a GitHub App installation token renewed
before it expires), `client` speaks the REST API with GitHub's rate limits honoured, and
`runs` finds and claims the workflow run a dispatch created when GitHub does not say.
"""
