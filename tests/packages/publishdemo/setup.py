"""A tiny C-extension project used by manywheels' publish tests."""

from pathlib import Path

from setuptools import Extension, setup

setup(
    name="publishdemo",
    version="0.1.0",
    description="A tiny C extension used by manywheels' publish tests",
    long_description=(Path(__file__).parent / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    author="manywheels developers",
    license="MIT",
    url="https://example.invalid/publishdemo",
    packages=["publishdemo"],
    ext_modules=[Extension("publishdemo._ext", ["publishdemo/_ext.c"])],
    python_requires=">=3.8",
)
