"""A C extension plus ``buildtime/_buildtime.py`` holding the build's time.time_ns():
every build differs in that one module (wheels-verify must name it)."""

import time
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py


class StampedBuildPy(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "buildtime" / "_buildtime.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"BUILT_NS = {time.time_ns()}\n")


setup(
    cmdclass={"build_py": StampedBuildPy},
    ext_modules=[Extension("buildtime._ext", ["src/buildtime/_ext.c"])],
)
