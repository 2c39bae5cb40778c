from setuptools import Extension, setup

setup(
    packages=["broken_link"],
    ext_modules=[
        Extension("broken_link._ext", ["broken_link/_ext.c"], libraries=["mwabsent"])
    ],
)
