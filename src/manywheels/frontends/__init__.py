"""The front ends, generated from the stage registry and the configuration options.

- :mod:`._adapter`: the one adapter every front end uses (configuration from mappings,
  running a stage on the shared run, errors -> one line + exit code, the chain);
- :mod:`._nox`: nox sessions (public: :mod:`manywheels.nox`);
- :mod:`._invoke`: the invoke collection (public: :mod:`manywheels.invoke`);
- :mod:`._cli`: the ``manywheels`` command (console script, ``python -m manywheels``).
"""

from __future__ import annotations
