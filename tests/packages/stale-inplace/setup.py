from setuptools import Extension, setup

setup(
    packages=["stale_inplace"],
    ext_modules=[Extension("stale_inplace._ext", ["stale_inplace/_ext.c"])],
)
