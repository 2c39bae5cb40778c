from setuptools import Extension, setup

setup(
    packages=["broken_symbols"],
    ext_modules=[Extension("broken_symbols._ext", ["broken_symbols/_ext.c"])],
)
