"""``test-image``: test the repaired wheels in containers of another image, started
without ``before-all`` and without the build's packages (cibuildwheel has no such option;
multibuild had a separate test image).

The test stage (:mod:`manywheels.stages.test`) calls three hooks: :func:`test_image_for`
(which image tests an identifier), :func:`clean_interpreter` (the identifier's Python in
that image) and :func:`missing_libraries` (after a failed test: the shared libraries the
wheel's extension modules need and neither the wheel nor the image has).
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from manywheels.errors import ConfigError
from manywheels.naming._platforms import FAMILIES
from manywheels.naming._tags import PythonTag

if TYPE_CHECKING:
    from manywheels.config import Config
    from manywheels.engine import Container

__all__ = ["BUILD_IMAGE", "clean_interpreter", "missing_libraries", "parse_entries",
           "test_image_for"]

BUILD_IMAGE = "build"
"""The ``test-image`` value that names the identifier's build image (without before-all)."""


def _bad(config: Config, entry: str, why: str) -> ConfigError:
    where = config.sources.get("test-image", "default")
    return ConfigError(f"test-image ({where}): {entry!r} {why}; allowed are <ref>, "
                       "<family>=<ref> or <family>-<arch>=<ref> (family manylinux or "
                       f"musllinux), <ref> may be {BUILD_IMAGE!r}")


def parse_entries(config: Config) -> dict[str, str]:
    """The ``test-image`` entries by selector: ``""`` (every identifier), ``<family>`` or
    ``<family>-<arch>``.

    Raises:
        ConfigError: an entry with an unknown family, an empty image or a selector twice.
    """
    entries: dict[str, str] = {}
    for entry in config.test_image:
        selector, _, ref = entry.rpartition("=")
        selector, ref = selector.strip(), ref.strip()
        family = selector.split("-", 1)[0]
        if not ref or any(c.isspace() for c in ref):
            raise _bad(config, entry, "has no image reference")
        if selector and family not in FAMILIES:
            raise _bad(config, entry, f"names no family ({family!r})")
        if selector in entries:
            raise _bad(config, entry, "repeats a selector")
        entries[selector] = ref
    return entries


def test_image_for(config: Config, identifier: str, build_image: str) -> str | None:
    """The image that tests ``identifier`` (``cp312-manylinux_x86_64``): the most specific
    ``test-image`` entry (``<family>-<arch>``, then ``<family>``, then a bare reference),
    ``build`` resolved to ``build_image``; ``None`` when ``test-image`` is unset or no
    entry matches (tested in the build container after before-all, as without it).

    Raises:
        ConfigError: a malformed entry (:func:`parse_entries`); ``test-image`` with
            ``engine = "none"``.
    """
    entries = parse_entries(config)
    if entries and config.engine == "none":
        where = config.sources.get("test-image", "default")
        msg = (f"test-image ({where}) needs an engine: with engine none the tests run on "
               "this machine, which has the build's packages; drop test-image or use "
               "engine docker")
        raise ConfigError(msg)
    platform = identifier.split("-", 1)[-1]  # manylinux_x86_64
    family, _, arch = platform.partition("_")
    for selector in (f"{family}-{arch}", family, ""):
        if selector in entries:
            ref = entries[selector]
            return build_image if ref == BUILD_IMAGE else ref
    return None


_PROBE = (
    'import sys, sysconfig; print(sys.implementation.name, *sys.version_info[:2], '
    'int(bool(sysconfig.get_config_var("Py_GIL_DISABLED"))))'
)


def clean_interpreter(container: Container, identifier: str, tag: PythonTag,
                      manylinux_path: str, ref: str) -> str:
    """The interpreter of ``tag`` in a test-image container: ``manylinux_path``
    (``/opt/python/<tag>/bin/python``) when the image has it, else ``python3`` on ``PATH``
    when it is CPython of the same version and free-threading.

    Raises:
        ConfigError: the image has neither (names the identifier, the image and the
            ``python3`` it has).
    """
    if container.run(["test", "-x", manylinux_path], check=False) == 0:
        return manylinux_path
    found = container.output(
        ["sh", "-c", f"command -v python3 >/dev/null && python3 -c {shlex.quote(_PROBE)}"],
        check=False).strip()
    want = f"cpython {tag.major} {tag.minor} {int(tag.free_threaded)}"
    if found.splitlines() and found.splitlines()[-1] == want:
        return container.output(["sh", "-c", "command -v python3"]).strip()
    has = found.splitlines()[-1] if found.splitlines() else "no python3"
    msg = (f"test-image {ref}: {identifier} needs CPython {tag.version}"
           f"{' free-threaded' if tag.free_threaded else ''} at {manylinux_path} or as "
           f"python3 on PATH; the image has {has!s} (implementation, major, minor, "
           "free-threaded); choose an image with that Python (e.g. "
           f"python:{tag.version}-slim)")
    raise ConfigError(msg)


_LDD = r"""
set -u
for so in $(find "$1" -name '*.so' -o -name '*.so.*' 2>/dev/null); do
  module="${so#"$1"/}"; module="${module#lib/python*/site-packages/}"
  ldd "$so" 2>/dev/null | sed -n "s|^[[:space:]]*\([^ ]*\) => not found.*|$module: \1|p"
done
"""


def missing_libraries(container: Container, venv: str) -> list[str]:
    """``<module>: <soname>`` for every shared library an extension module installed in
    ``venv`` needs and the dynamic linker cannot find (``ldd`` in the container); empty
    when ``ldd`` is absent or nothing is missing. Never raises for a failed probe."""
    try:
        text = container.output(["bash", "-c", _LDD, "ldd-probe", venv], check=False)
    except Exception:  # noqa: BLE001 - a probe after a failure must not hide it
        return []
    return sorted({line.strip() for line in text.splitlines() if line.strip()})
