"""Small helpers used across the hub."""
