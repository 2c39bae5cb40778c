from setuptools import Extension, setup

setup(
    packages=["broken_hiddenlib"],
    ext_modules=[
        Extension(
            "broken_hiddenlib._ext",
            ["broken_hiddenlib/_ext.c"],
            library_dirs=["/opt/mwhidden/lib"],
            libraries=["mwhidden"],
        )
    ],
)
