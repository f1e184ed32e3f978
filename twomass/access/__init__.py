"""Catalog access for users: tables with their column metadata."""
