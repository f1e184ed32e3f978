"""Queries over the catalogs: cone searches."""
