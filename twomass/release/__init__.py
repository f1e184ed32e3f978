"""Catalog releases: the 2MASS release rules (``sql/release/``) run into ``rel_<name>``.

``build`` materializes a release, ``publish`` points the public views at it, the
registry functions list, show and drop releases.
"""

from twomass.release.builder import build, code_version, steps
from twomass.release.publish import PUBLIC_VIEWS, publish
from twomass.release.registry import (
    ReleaseError,
    ReleaseRecord,
    drop,
    list_releases,
    schema_for,
    show,
    summary,
)
from twomass.release.spec import ReleaseSpec, ReleaseSpecError, load_spec

__all__ = [
    "PUBLIC_VIEWS", "ReleaseError", "ReleaseRecord", "ReleaseSpec", "ReleaseSpecError",
    "build", "code_version", "drop", "list_releases", "load_spec", "publish", "schema_for",
    "show", "steps", "summary",
]
