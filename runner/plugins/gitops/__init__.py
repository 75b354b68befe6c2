"""The GitOps plugin: push the runner's catalog commits, pull what was merged elsewhere."""
