"""Alembic migrations of the profile database (shipped inside the package)."""
