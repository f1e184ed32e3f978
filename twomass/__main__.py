"""``python -m twomass``: the same as the ``twomass`` console script."""

import sys

from twomass.cli import main

if __name__ == "__main__":  # not when a worker process imports this module (spawn)
    sys.exit(main())
