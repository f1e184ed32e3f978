"""Quality assessment: the survey paper's Table 2 against a simulated truth, and the QA
reports of nights and releases.

``table2`` is the Table 2 entry point; ``catalog`` reads the release, ``truth`` the
simulator's truth table, and ``matching`` holds the positional comparisons between them.
``release_report`` and ``night_report`` write the reports (HTML, JSON, MOC): their
figures come from ``release_figures``, ``truth_figures``, ``skyplots`` and ``plots``,
their numbers from the SQL aggregates of ``sql/qa/`` (``queries``) or, for a night not
yet loaded, its product files (``night_data``).
"""

from twomass.core.errors import TwomassError


class ValidationError(TwomassError):
    """The truth file or the release cannot be compared."""
