"""The repository's own invoke tasks: manywheels' ``wheels`` collection on the demo
project ``examples/cext`` (the invoke twin of ``nox -s wheels`` in noxfile.py).

- ``invoke --list`` shows ``wheels.build``, ``wheels.repair``, ``wheels.test``, ...;
- ``invoke wheels`` builds, repairs and tests the demo's wheels;
- ``invoke wheels.build --python cp312 --image IMAGE`` passes options as flags;
  ``INVOKE_WHEELS_PYTHON="cp311 cp312" invoke wheels`` sets them for the whole chain.
"""

from __future__ import annotations

from pathlib import Path

from invoke.collection import Collection

import manywheels.invoke

ROOT = Path(__file__).resolve().parent.parent

ns = Collection()
ns.add_collection(manywheels.invoke.ns)
ns.configure({"wheels": {"project_dir": str(ROOT / "examples" / "cext")}})
