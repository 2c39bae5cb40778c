"""One C extension on the limited API of CPython 3.9: the wheel is ``cp39-abi3``."""

import os

from setuptools import Extension, setup

# LIMITEDAPI_VIOLATE=1: one call outside the stable ABI (abi3audit's negative case).
VIOLATE = [("LIMITEDAPI_VIOLATE", "1")] if os.environ.get("LIMITEDAPI_VIOLATE") else []

setup(
    ext_modules=[
        Extension(
            "limitedapi._speedups",
            ["src/limitedapi/_speedups.c"],
            define_macros=[("Py_LIMITED_API", "0x03090000"), *VIOLATE],
            py_limited_api=True,
        )
    ],
    options={"bdist_wheel": {"py_limited_api": "cp39"}},
)
