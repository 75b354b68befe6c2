"""Helpers shared by the test directories: real runner processes and catalog repositories."""
