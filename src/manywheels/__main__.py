"""``python -m manywheels``: the ``manywheels`` command (see :mod:`manywheels.cli`)."""

from __future__ import annotations

import sys

from manywheels.cli import main

if __name__ == "__main__":
    sys.exit(main())
