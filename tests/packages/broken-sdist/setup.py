from setuptools import Extension, setup

setup(
    packages=["broken_sdist"],
    ext_modules=[
        Extension("broken_sdist._ext", ["broken_sdist/_ext.c"], include_dirs=["include"])
    ],
)
