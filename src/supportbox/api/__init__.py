"""The integration APIs: command, reporting (spec sections 4 and 5)."""
