"""Bundled plugins (github, argocd, gitops, flux): settings schemas, clients, discovery."""
