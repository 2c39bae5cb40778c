"""One C extension on the limited API of CPython 3.9: the wheel is ``cp39-abi3``."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "limitedapi._speedups",
            ["src/limitedapi/_speedups.c"],
            define_macros=[("Py_LIMITED_API", "0x03090000")],
            py_limited_api=True,
        )
    ],
    options={"bdist_wheel": {"py_limited_api": "cp39"}},
)
