"""``python -m manywheels``: the ``manywheels`` command (see :mod:`manywheels.frontends._cli`)."""

from __future__ import annotations

import sys

from manywheels.frontends._cli import main

if __name__ == "__main__":
    sys.exit(main())
