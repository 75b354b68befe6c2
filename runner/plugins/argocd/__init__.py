"""The ArgoCD plugin: API client, discovery of Applications as Services, catalog writes."""
