from setuptools import Extension, setup

setup(
    packages=["broken_header"],
    ext_modules=[Extension("broken_header._ext", ["broken_header/_ext.c"])],
)
