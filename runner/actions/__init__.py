"""Self-service actions: input validation, permissions, approvals, the engine and executors."""
