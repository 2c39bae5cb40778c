from setuptools import Extension, setup

setup(
    packages=["broken_isa"],
    ext_modules=[Extension("broken_isa._ext", ["broken_isa/_ext.c"])],
)
