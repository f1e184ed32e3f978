"""Catalog access: selections (cone, box, polygon), the ``Catalog`` API, exports in the
formats users load, and cross-match of an uploaded table."""
