"""Quality assessment of releases: the survey paper's Table 2 against a simulated truth.

``table2`` is the entry point; ``catalog`` reads the release, ``truth`` the simulator's
truth table, and ``matching`` holds the positional comparisons between them.
"""

from twomass.core.errors import TwomassError


class ValidationError(TwomassError):
    """The truth file or the release cannot be compared."""
