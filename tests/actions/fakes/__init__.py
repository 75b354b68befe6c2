"""Local stand-ins for the services actions talk to, speaking their real HTTP protocols."""
