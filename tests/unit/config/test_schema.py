"""Issue 13: the JSON schema of [tool.manywheels], generated from OPTIONS and shipped."""

from __future__ import annotations

import json
import sys
from importlib.resources import files
from typing import Any

import pytest

from manywheels.config import OPTIONS, json_schema
from manywheels.config._schema import validate_pyproject_plugin

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

SAMPLE = """
python = ["cp312", "3.13"]
archs = "x86_64 aarch64"
enable = ["cpython-freethreading"]
build = ["cp3{12,13}-*"]
manylinux-x86_64-image = "manylinux_2_28"
frontend = "build; args: --no-isolation"
environment = { CFLAGS = "-O2" }
config-settings = { setup-args = ["-Da=1", "-Db=2"] }
jobs = 2
build-verbosity = -1
ccache = true
[publish]
repository = "testpypi"
[[overrides]]
select = "cp313-*"
test-requires = ["numpy"]
inherit.test-requires = "append"
"""


def shipped() -> dict[str, Any]:
    text = files("manywheels").joinpath("resources/manywheels.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_shipped_schema_is_the_generated_one() -> None:
    """Regenerate with: python -c "import json; from manywheels.config import json_schema;
    print(json.dumps(json_schema(), indent=2))" > src/manywheels/resources/manywheels.schema.json"""
    assert shipped() == json_schema()
    assert validate_pyproject_plugin("manywheels") == json_schema()


def test_every_pyproject_key_is_described() -> None:
    properties = json_schema()["properties"]
    for option in OPTIONS:
        where = properties["publish"]["properties"] if "." in option.key else properties
        name = option.key.split(".")[-1]
        if option.stage_only:
            assert name not in where
        else:
            assert where[name]["description"] == option.help
    assert properties["enable"]["oneOf"][1]["items"]["enum"][0] == "cpython-prerelease"
    assert properties["frontend"]["oneOf"][1]["properties"]["name"]["enum"] == [
        "build", "pip", "uv"]


def test_sample_table_validates() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    jsonschema.validate(tomllib.loads(SAMPLE), schema)
    for bad in ('jobs = "two"', 'enable = ["cpython-nightly"]', "dry-run = true",
                'frontend = { name = "poetry" }', "[[overrides]]\nbefore-all = 'x'"):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(tomllib.loads(bad), schema)
