"""twomass: a PostgreSQL catalog system for 2MASS-like surveys.

Nightly source extractions go into a working database (schema ``wdb``); the 2MASS
release rules, written in SQL, materialize catalogs from it; users query them with
SQL, cone-search functions and the Python API.
"""

import importlib
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("twomass")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["Catalog", "__version__"]


def __getattr__(name: str):
    """``twomass.Catalog`` imported on first use, so ``import twomass`` stays light (and
    the modules that read ``twomass.__version__`` do not depend on the access layer)."""
    if name == "Catalog":
        return importlib.import_module("twomass.access.catalog").Catalog
    raise AttributeError(f"module 'twomass' has no attribute {name!r}")
