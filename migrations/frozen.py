"""The one way a revision runs SQL: a file frozen in the folder named after the revision.

A revision never reads ``sql/`` or ``schema/``: what it installs is fixed when it is
written, so upgrading an old database gives the same result whatever the code is now.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op


def run_frozen(revision_file: str, name: str) -> None:
    """Run ``name`` from the folder beside ``revision_file`` (its path without ``.py``)
    through a plain cursor, so that ``%`` in the SQL needs no escaping."""
    text = (Path(revision_file).with_suffix("") / name).read_text(encoding="utf-8")
    cursor = op.get_bind().connection.cursor()
    try:
        cursor.execute(text)
    finally:
        cursor.close()
