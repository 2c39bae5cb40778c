"""Every configuration key, declared once: :class:`Option` and :data:`OPTIONS`.

Flags (:func:`~manywheels.config.argument_parser`), invoke task signatures,
``manywheels init``'s table and the README's configuration table (:func:`markdown_table`)
are derived from :data:`OPTIONS`. Adding an option: one ``Option(...)`` here, its
:class:`~manywheels.config.Config` field and its README row (``markdown_table()`` prints
it; ``tests/unit/config/test_readme.py`` checks it).
"""

from __future__ import annotations

from pathlib import Path

from manywheels.config._option import Kind, Option
from manywheels.naming._platforms import (
    ARCH_VALUES,
    DEFAULT_POLICIES,
    FAMILIES,
    PYPA_REGISTRY,
    image_key,
)
from manywheels.naming._policy import ARCHS

__all__ = ["BY_ATTR", "BY_KEY", "DEFAULT_AUDIT_COMMAND", "DEFAULT_IMAGE", "DEFAULT_REPAIR_COMMAND",
           "ENABLE_VALUES",
           "IMAGE_KEYS",
           "OPTIONS", "Kind", "Option", "markdown_table"]

DEFAULT_IMAGE = "quay.io/pypa/manylinux_2_28_x86_64"
DEFAULT_REPAIR_COMMAND = "auditwheel repair --plat {plat} -w {dest_dir} {wheel}"
"""cibuildwheel's default repair-command on Linux (docs/options.md, "repair-wheel-command")."""
DEFAULT_AUDIT_COMMAND = "abi3audit --strict --report {abi3_wheel}"
"""cibuildwheel's default audit-command (docs/options.md, "audit-command"): abi3 wheels only."""

ENABLE_VALUES = ("cpython-prerelease", "cpython-freethreading", "pypy", "graalpy")
"""cibuildwheel's ``enable`` groups (docs/options.md, "enable")."""

IMAGE_KEYS = tuple(image_key(family, arch) for family in FAMILIES for arch in ARCHS)
"""``manylinux-x86_64-image`` … ``musllinux-riscv64-image`` (cibuildwheel's keys)."""

def _image_option(key: str) -> Option:
    """The option of one ``<family>-<arch>-image`` key (default: cibuildwheel's policy)."""
    family, arch, _ = key.split("-")
    default = DEFAULT_POLICIES[family, arch]
    return Option(
        key, "optstr", None,
        f"{family} image for {arch}: a policy name ({default}) or an image reference",
        example=default, default_text=f"`{default}`",
        meaning=f"{family} image for {arch}: a policy name (`{PYPA_REGISTRY}/<policy>_{arch}`) "
        "or any image reference")


OPTIONS: tuple[Option, ...] = (
    Option("python", "python", None,
           "Python tags to build (cp312, cp312-cp312 or 3.12); default: every CPython in the "
           "image that the project's requires-python allows",
           example=["cp311", "cp312", "cp313"],
           default_text="every CPython in the image that the project's requires-python allows "
           "(others skipped with one line; free-threaded builds only when named or with "
           "`enable`, pre-releases only with `enable`)",
           meaning="Python tags: `cp312`, `cp312-cp312` and `3.12` all work (`cp313t` for "
           "free-threaded); a list in TOML, space-separated in the environment"),
    Option("enable", "list", [],
           "extra interpreter groups selected by default: cpython-prerelease, "
           "cpython-freethreading, pypy, graalpy",
           choices=ENABLE_VALUES, example=["cpython-freethreading"],
           meaning="interpreters selected by default beyond final GIL CPythons (cibuildwheel's "
           "`enable`): `cpython-freethreading` (`cp313t`, `cp314t`), `cpython-prerelease` "
           "(an image's pre-release CPython), `pypy` (`pp311`: `/opt/python/pp311-pypy311_pp73`), "
           "`graalpy` (`gp242`: `/opt/python/graalpy311-graalpy242_311_native`); the image's "
           "`manylinux-interpreters` installs those a run needs"),
    Option("image", "str", DEFAULT_IMAGE, "manylinux or musllinux image to build in",
           meaning="manylinux or musllinux image to build in; used locally when present, "
           "pulled otherwise"),
    Option("plat", "optstr", None,
           "auditwheel --plat policy (e.g. manylinux_2_28_x86_64); default the image's "
           "AUDITWHEEL_PLAT",
           example="manylinux_2_28_x86_64", default_text="the image's `AUDITWHEEL_PLAT`",
           meaning="auditwheel `--plat` policy (PEP 600), e.g. `manylinux_2_28_x86_64`"),
    Option("archs", "list", [],
           "architectures to build (cibuildwheel's archs): x86_64, i686, aarch64, ppc64le, "
           "s390x, armv7l, riscv64, auto, auto32, native, all",
           example=["auto"],
           default_text="unset: the one `image`; `auto` once a per-arch image key is set",
           meaning="architectures to build, each with both families (manylinux and "
           "musllinux): " + ", ".join(f"`{v}`" for v in ARCH_VALUES) + " (`auto`: the host's "
           "native 64-bit arch, `auto32`: its 32-bit one, `all`: every arch); foreign arches "
           "run under QEMU"),
    *(_image_option(key) for key in IMAGE_KEYS),
    Option("build", "list", [], "identifier patterns to build (fnmatch, {a,b} braces)",
           example=["cp3{11,12,13}-*"], default_text="every identifier",
           meaning="identifier patterns to build, space-separated (fnmatch with `{a,b}` "
           "braces, e.g. `cp3{12,13}-*`)"),
    Option("skip", "list", [], "identifier patterns to skip (fnmatch, {a,b} braces)",
           example=["*musllinux*"],
           meaning="identifier patterns to skip (e.g. `*musllinux*`, `*-manylinux_i686`)"),
    Option("before-all", "str", "", "shell script run once per container before any build",
           example="yum install -y libffi-devel",
           meaning="shell script run once per container before any build (install system "
           "libraries here)"),
    Option("before-build", "str", "", "shell script run before each identifier's build",
           example="python scripts/generate_sources.py",
           meaning="shell script run in the unpacked sdist before each identifier's build"),
    Option("environment", "table", {},
           "variables of before-all, builds and repairs, evaluated in order by the shell "
           "($VAR, ${VAR}, $(cmd)) (table / KEY=VALUE)",
           example={"CFLAGS": "-O2"},
           meaning="variables of `before-all`, each build and each repair: a table in TOML, "
           "`KEY=VALUE` pairs elsewhere; evaluated in the container in order, as a POSIX "
           "shell would (`$VAR`, `${VAR}`, `$(cmd)`), everything else literal (one "
           "double-quoted word); not seen by tests (see `test-environment`)"),
    Option("container-create-args", "str", "",
           "extra options for creating the build containers (allowlist: --cpus, --memory, "
           "--memory-swap, --shm-size, --pids-limit, --ulimit, --gpus, --network, --cap-add, "
           "--security-opt)",
           example="--shm-size 2g --cpus 2",
           meaning="`docker create` options for every build container, from an allowlist: "
           "`--cpus`, `--memory`/`-m`, `--memory-swap`, `--shm-size`, `--pids-limit`, "
           "`--ulimit name=soft[:hard]`, `--gpus`, `--network`, `--cap-add`, `--security-opt` "
           "(`--opt value` or `--opt=value`; anything else is refused, exit 2); cibuildwheel's "
           "`\"docker; create_args: --gpus all\"` form works too, and its `container-engine` "
           "is read from `[tool.cibuildwheel]`"),
    Option("environment-pass", "list", [], "names of host variables passed into the container",
           example=["CI"]),
    Option("frontend", "frontend", "build", "build frontend in the container",
           choices=("build", "pip", "uv"),
           meaning="`build` (`python -m build`, `--installer uv` when the image has uv), `pip` "
           "(`pip wheel`) or `uv` (`uv build`); `\"build; args: --no-isolation\"` passes "
           "extra arguments (cibuildwheel's build-frontend)"),
    Option("test-command", "optstr", None,
           "command run in a fresh venv with the repaired wheel installed; placeholders "
           "{project}/{package} (the project copy in the container) and {wheel} (the wheel "
           "path), other braces kept",
           example="python -c 'import your_package'",
           meaning="run in a fresh venv with the repaired wheel installed; placeholders "
           "`{project}` and `{package}` (a copy of the project in the container) and "
           "`{wheel}` (the wheel's path); any other brace text (`{1: 2}`, `${HOME}`) is "
           "kept as written, `#{wheel}` is a literal `{wheel}`"),
    Option("test-requires", "list", [], "requirements installed before the test-command",
           example=["pytest"]),
    Option("test-extras", "list", [], "extras of the project installed with the wheel"),
    Option("project-dir", "path", None, "the project to build; default the noxfile's directory",
           default_text="the noxfile's directory", meaning="the project to build"),
    Option("sdist", "path", None,
           "build from this sdist file instead of building one on the host",
           example="dist/yourproject-1.0.tar.gz", default_text="built on the host",
           meaning="an sdist file (`.tar.gz`, relative to project-dir) the wheels are built "
           "from instead of one built on the host (no git, host compiler or meson needed); "
           "without a `pyproject.toml` in project-dir (or one without `[tool.manywheels]`/"
           "`[tool.cibuildwheel]`), the configuration is read from the sdist's own; "
           "`{project}` is then the unpacked sdist"),
    Option("dist-dir", "path", Path("dist"), "where the sdist and the raw wheels go",
           example="dist",
           meaning="where the sdist and the raw wheels go (relative to project-dir)"),
    Option("output-dir", "path", Path("wheelhouse"),
           "where repaired wheels, logs and the run report go", example="wheelhouse",
           meaning="where repaired wheels, logs and the run report go (relative to "
           "project-dir)"),
    Option("jobs", "int", None, "identifiers built at once; default the CPU count",
           example=2, default_text="the CPU count", meaning="identifiers built at once"),
    Option("fail-fast", "bool", False, "stop at the first identifier that fails"),
    Option("cache", "bool", True,
           "mount the host's pip and uv caches (and ccache's) into containers, keep "
           "before-all results as a committed image and built wheels in the wheel cache, "
           "reused by later runs",
           meaning="mount the host's pip and uv caches (and ccache's) into containers, one "
           "set per image, keep `before-all` results as a committed image and raw and "
           "repaired wheels in the wheel cache (nothing built twice), reused by later "
           "runs; `--no-cache` for none of them"),
    Option("cache-dir", "path", None,
           "where the host caches live; default $XDG_CACHE_HOME/manywheels "
           "(~/.cache/manywheels); relative to the project directory",
           example=".cache/manywheels",
           default_text="`$XDG_CACHE_HOME/manywheels` (`~/.cache/manywheels`)",
           meaning="where the host caches live (relative to project-dir); a remote engine "
           "gets named volumes instead"),
    Option("wheel-cache-max-mib", "int", 2048,
           "the wheel cache's size limit in MiB: when a build starts, the least recently "
           "used wheels beyond it are removed",
           example=4096,
           meaning="the wheel cache's size limit in MiB (`<cache-dir>/wheels`): when the "
           "build stage starts, the least recently used entries (stored or restored last "
           "longest ago) are removed until the cache fits; a run's own entries may take it "
           "over the limit until the next build"),
    Option("ccache", "bool", False,
           "compile through ccache, its cache on the host (ccache must be in the image or "
           "installed by before-all)", example=True,
           meaning="compile through ccache, its cache on the host (ccache must be in the "
           "image or installed by `before-all`)"),
    Option("reproducible", "bool", True,
           "SOURCE_DATE_EPOCH from the last git commit (or the newest project file) and "
           "repaired wheels rewritten canonically (sorted entries, fixed times and modes)",
           meaning="`SOURCE_DATE_EPOCH` (the host's, else the last git commit touching the "
           "project, else its newest file) for the sdist build and every container, and each "
           "repaired wheel rewritten canonically: entries sorted with `RECORD` last, `RECORD` "
           "rows sorted, timestamps from `SOURCE_DATE_EPOCH`, modes 0644/0755, one "
           "compression; `false` turns both off (a host `SOURCE_DATE_EPOCH` is still passed)"),
    Option("sbom-components", "components", (),
           "libraries built from source in before-all, for a second CycloneDX SBOM in each "
           "repaired wheel (list of {name, version, purl, files}; JSON outside pyproject.toml)",
           example=[{"name": "libyaml", "version": "0.2.5", "files": ["*/libyaml*.so*"]}],
           default_text="none",
           meaning="libraries built from source in `before-all` (auditwheel's SBOM names only "
           "OS packages): an array of tables `{name, version, purl, files}` (`purl` default "
           "`pkg:generic/<name>@<version>`, `files` patterns of the wheel members the library "
           "ships as, default every wheel), a JSON array in the environment and on the command "
           "line; written to `<name>.dist-info/sboms/manywheels.cdx.json` (PEP 770, CycloneDX "
           "1.6) of each repaired wheel holding one of its files, with `reproducible`'s rewrite"),
    Option("dry-run", "bool", False, "print what would run (scripts, uploads); change nothing",
           stage_only=True, meaning="print what would run; change nothing"),
    Option("remove-leftovers", "bool", False,
           "remove containers that crashed earlier runs left behind (they are reported either "
           "way)", stage_only=True,
           meaning="remove containers that crashed earlier runs left behind (always reported)"),
    Option("keep-failed", "bool", False,
           "keep the container of a failing identifier, labelled, to enter it (removed by "
           "--remove-leftovers)", stage_only=True,
           meaning="keep a container of each failing identifier (the shared container's "
           "state committed, labelled `io.manywheels.kept=<identifier>`) and print how to "
           "enter it; `--remove-leftovers` removes it"),
    Option("engine", "choice", "docker", "the container engine: docker, or none inside a "
           "manylinux/musllinux image", choices=("docker", "none"),
           meaning="`docker` (any Docker-API engine: `DOCKER_HOST`, Podman's socket); `none`: "
           "run the stage scripts directly on this machine, which must be a manylinux/"
           "musllinux-layout image (`/opt/python`, auditwheel, `AUDITWHEEL_PLAT`)"),
    Option("replace-record", "bool", False,
           "start a new run record when the output-dir holds another project's (one project "
           "per output-dir)", stage_only=True),
    Option("publish.repository", "optstr", None, "~/.pypirc section to upload to (twine)",
           example="testpypi", meaning="`~/.pypirc` section to upload to (twine)"),
    Option("publish.repository-url", "optstr", None, "index upload URL (twine)",
           example="https://test.pypi.org/legacy/", meaning="the index's upload URL (twine)"),
    Option("publish.allow-untested", "bool", False,
           "publish wheels the run report does not record as tested"),
    Option("publish.attestations", "bool", False,
           "sign each file with pypi-attestations (ambient OIDC identity) and upload with "
           "twine upload --attestations",
           meaning="sign each file with `pypi-attestations` (needs an ambient OIDC identity: "
           "GitHub Actions with `id-token: write`) and upload with `twine upload "
           "--attestations`; extra `manywheels[attest]`"),
    Option("test-environment", "table", {},
           "variables of the tests only, evaluated like environment (table / KEY=VALUE)",
           example={"PYTHONSAFEPATH": "1"},
           meaning="variables of the tests only, evaluated in the container like "
           "`environment`; builds and tests also get `MANYWHEELS=1`, "
           "`MANYWHEELS_BUILD_IDENTIFIER`, `CIBUILDWHEEL=1`, `CIBUILDWHEEL_BUILD_IDENTIFIER`, "
           "and the run's `SOURCE_DATE_EPOCH` (see `reproducible`)"),
    Option("repair-command", "str", DEFAULT_REPAIR_COMMAND,
           "command that repairs {wheel} into {dest_dir} for {plat}; empty: keep the raw wheel",
           example="auditwheel repair --exclude 'libcuda.so.*' --plat {plat} -w {dest_dir} "
           "{wheel}",
           meaning="the repair of each raw wheel, run with the build's `environment`; "
           "placeholders `{wheel}` (the raw wheel), `{dest_dir}` (where exactly one repaired "
           "wheel must land), `{plat}` (the policy), `{project}`/`{package}` (a copy of the "
           "project), other braces kept; empty: the raw wheel is kept as it is (publish "
           "still refuses `linux_*` tags)"),
    Option("before-test", "str", "",
           "shell script run in the test venv before the wheel is installed",
           example="pip install numpy",
           meaning="shell script run before each test, in the fresh venv (activated) "
           "before the wheel is installed; placeholders as `test-command`"),
    Option("test-sources", "list", [],
           "files and directories of the project copied into the test's working directory",
           example=["tests", "pyproject.toml"],
           meaning="paths relative to the project, copied into the test's working directory "
           "(outside the sources) before each test"),
    Option("test-image", "list", [],
           "test in containers of another image, without before-all: [<family>[-<arch>]=]<ref>",
           example=["python:3.12-slim"], default_text="the build image, after before-all",
           meaning="test each repaired wheel in a container of another image, without "
           "before-all and without the build's packages: entries `<ref>` (every identifier), "
           "`<family>=<ref>` or `<family>-<arch>=<ref>` (the most specific wins); `build`: the "
           "build image without before-all. An image without `/opt/python` must have the "
           "identifier's Python as `python3`"),
    Option("test-skip", "list", [], "identifier patterns whose tests are skipped",
           example=["cp313-*"],
           meaning="identifier patterns whose wheels are not tested (recorded `skipped`): "
           "shell wildcards with `{a,b}` braces, e.g. `cp3{12,13}-*`"),
    Option("test-groups", "list", [],
           "PEP 735 dependency groups of the project installed for the tests",
           example=["test"],
           meaning="PEP 735 dependency groups (`[dependency-groups]` of the project's "
           "`pyproject.toml`, includes followed) installed with the wheel for the tests"),
    Option("test-timeout", "int", None,
           "seconds a test may take; past it the identifier fails (its processes killed)",
           example=600, default_text="no limit",
           meaning="seconds the `test-command` may run; past it that identifier fails with "
           "one line, every process it started killed"),
    Option("config-settings", "settings", {},
           "PEP 517 config settings passed to the frontend (-C KEY=VALUE)",
           example={"setup-args": "-Dfoo=bar"},
           meaning="PEP 517 config settings for the build backend, passed as "
           "`--config-setting KEY=VALUE` (build, uv) or `--config-settings KEY=VALUE` (pip); a "
           "table (a list value repeats the key) or `KEY=VALUE` pairs"),
    Option("build-verbosity", "verbosity", 0,
           "-3 to 3: 1 or more (-v) streams every output line and makes the frontend "
           "verbose; negative quiets the frontend (-q)", example=1, default_text="`0`",
           meaning="`0`: one line per identifier and stage, the tail of a failing log (full "
           "logs in `<output-dir>/logs/`); `1` to `3` (`-v`, `-vv`): stream every output line "
           "and pass `-v` to the frontend (pip, uv: that many times; build: once); `-1` to "
           "`-3`: `-q` to the frontend (pip, uv)"),
    Option("audit-command", "commands", (DEFAULT_AUDIT_COMMAND,),
           "commands checking each repaired wheel ({wheel}: every wheel, {abi3_wheel}: abi3 "
           "wheels only); empty: no audit",
           example="abi3audit --strict --report {abi3_wheel} && twine check {wheel}",
           meaning="shell commands run in the container on each repaired wheel, once per wheel "
           "(an abi3 wheel that later identifiers reuse is audited once), before it is copied "
           "to output-dir; several separated by ` && ` or given as a list; each names "
           "`{wheel}` (every wheel) or `{abi3_wheel}` (only wheels with an `abi3` tag); a "
           "failing command fails that wheel's identifiers; empty: no audit"),
    Option("audit-requires", "list", ["abi3audit"],
           "packages installed into a venv in the container for the audit-command",
           example=["abi3audit==0.0.26", "twine"],
           meaning="requirements of the `audit-command`, installed into a venv in the "
           "container (from the image's newest CPython) when an audit runs; with the default "
           "`abi3audit` the image's own `abi3audit` is used when it has one (the manylinux "
           "images do)"),
)


def markdown_table() -> str:
    """The README's configuration table (header and one row per key), from :data:`OPTIONS`."""
    rows = ["| key | environment | flag | default | meaning |", "|---|---|---|---|---|"]
    rows += [option.table_row() for option in OPTIONS]
    return "\n".join(rows) + "\n"


BY_KEY: dict[str, Option] = {option.key: option for option in OPTIONS}
"""Every option by its key (``publish.repository-url``)."""
BY_ATTR: dict[str, Option] = {option.attr: option for option in OPTIONS}
"""Every option by its :class:`~manywheels.config.Config` attribute (``repository_url``)."""
