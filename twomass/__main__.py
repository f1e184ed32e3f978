"""``python -m twomass``: the same as the ``twomass`` console script."""

import sys

from twomass.cli import main

sys.exit(main())
