"""Diagnosis as a pure function, over logs captured from real failures in containers.

The logs in tests/unit/data/diagnose were produced by the fixture projects in
tests/packages/broken-* built and repaired in the test image (the integration tests in
tests/integration/test_troubleshoot.py produce them again, for real, on every run).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from manywheels.diagnose import (
    EngineFacts,
    Facts,
    Finding,
    ImageFacts,
    LogText,
    ProjectFacts,
    VersionedSymbol,
    WheelAudit,
    diagnose,
    report_lines,
    short_lines,
    to_json,
)
from manywheels.diagnose import logs as patterns
from manywheels.diagnose.elf import policy_allowing, split_plat, too_recent
from manywheels.diagnose.packages import (
    install_command,
    likely_package,
    package_manager_from_env,
    search_command,
)
from manywheels.errors import (
    BeforeAllError,
    CommandError,
    ConfigError,
    EngineUnavailableError,
    ImageNotFoundError,
    ManywheelsError,
    ProjectError,
    PythonTagMissingError,
    SdistBuildError,
    StageFailedError,
)
from manywheels.stages.troubleshoot import (
    TroubleshootOptions,
    failed_stage,
    is_diagnosable,
    split_args,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "diagnose"
ID = "cp312-manylinux_x86_64"


def _log(name: str, stage: str, status: str | None = "failed") -> LogText:
    return LogText(ID, stage, f"logs/{ID}/{stage}.log", (DATA / name).read_text(), status)


def _image(manager: str | None = "apt-get", pythons: tuple[str, ...] | None = None
           ) -> ImageFacts:
    env = {"AUDITWHEEL_PLAT": "manylinux_2_36_x86_64"}
    return ImageFacts("manywheels-test:x", env=env, package_manager=manager, pythons=pythons)


def _only(findings: list[Finding], check: str) -> Finding:
    matching = [f for f in findings if f.check == check]
    assert len(matching) == 1, findings
    return matching[0]


# ------------------------------------------------------------------ compile failures


@pytest.mark.parametrize(
    ("manager", "package", "command"),
    [
        ("apt-get", "libyaml-dev", "apt-get update && apt-get install -y libyaml-dev"),
        ("dnf", "libyaml-devel", "dnf install -y libyaml-devel"),
        ("yum", "libyaml-devel", "yum install -y libyaml-devel"),
        ("apk", "yaml-dev", "apk add --no-cache yaml-dev"),
    ],
)
def test_missing_header_names_header_and_package_for_the_image(
    manager: str, package: str, command: str
) -> None:
    facts = Facts(logs=(_log("missing-header.build.log", "build"),), image=_image(manager))
    finding = _only(diagnose(facts), "missing-header")
    assert "yaml.h" in finding.cause and package in finding.cause
    assert finding.fix.startswith(f'before-all = "{command}"')
    assert finding.identifier == ID and finding.log == f"logs/{ID}/build.log"
    assert finding.evidence == (
        "broken_header/_ext.c:3:10: fatal error: yaml.h: No such file or directory"
    )
    # explained: no generic stage-failed finding on top
    assert not [f for f in diagnose(facts) if f.check == "stage-failed"]


def test_missing_header_appends_to_an_existing_before_all() -> None:
    facts = Facts(logs=(_log("missing-header.build.log", "build"),), image=_image("dnf"),
                  before_all="dnf install -y zlib-devel")
    finding = _only(diagnose(facts), "missing-header")
    assert finding.fix.startswith('append to before-all: "dnf install -y libyaml-devel"')


def test_package_manager_falls_back_to_the_image_policy() -> None:
    image = ImageFacts("quay.io/pypa/musllinux_1_2_x86_64",
                       env={"AUDITWHEEL_POLICY": "musllinux_1_2"})
    facts = Facts(logs=(_log("missing-header.build.log", "build"),), image=image)
    assert "apk add --no-cache yaml-dev" in _only(diagnose(facts), "missing-header").fix


def test_missing_library_guesses_the_package_and_says_how_to_confirm() -> None:
    facts = Facts(logs=(_log("missing-library.build.log", "build"),), image=_image("dnf"))
    finding = _only(diagnose(facts), "missing-library")
    assert "-lmwabsent" in finding.cause
    assert 'before-all = "dnf install -y mwabsent-devel"' in finding.fix
    assert "dnf provides '*/libmwabsent.so'" in finding.fix
    assert "cannot find -lmwabsent" in (finding.evidence or "")


def test_project_header_missing_from_sdist_is_an_sdist_problem_not_a_package() -> None:
    project = ProjectFacts(
        build_backend="setuptools.build_meta",
        tree_files=frozenset({"setup.py", "include/mwlocal.h", "broken_sdist/_ext.c"}),
        sdist="broken_sdist-0.1.0.tar.gz",
        sdist_files=frozenset({"setup.py", "PKG-INFO", "broken_sdist/_ext.c"}),
    )
    facts = Facts(logs=(_log("sdist-header.build.log", "build"),), image=_image(),
                  project=project)
    findings = diagnose(facts)
    finding = _only(findings, "sdist-incomplete")
    assert "include/mwlocal.h" in finding.cause and "broken_sdist-0.1.0.tar.gz" in finding.cause
    assert "MANIFEST.in (include include/mwlocal.h)" in finding.fix
    assert not [f for f in findings if f.check in {"missing-header", "stage-failed"}]


@pytest.mark.parametrize(
    ("backend", "scm", "expected"),
    [
        ("hatchling.build", False,
         '[tool.hatch.build.targets.sdist] include = ["include/mwlocal.h"]'),
        ("scikit_build_core.build", False, '[tool.scikit-build] sdist.include = ['),
        ("maturin", False, '{ path = "include/mwlocal.h", format = "sdist" }'),
        ("flit_core.buildapi", False, "[tool.flit.sdist] include"),
        ("pdm.backend", False, "[tool.pdm.build] source-includes"),
        ("setuptools.build_meta", True, "git add include/mwlocal.h"),
        ("mesonpy", False, "git add include/mwlocal.h"),
    ],
)
def test_sdist_fix_speaks_the_build_backend(backend: str, scm: bool, expected: str) -> None:
    project = ProjectFacts(
        build_backend=backend, uses_scm=scm,
        tree_files=frozenset({"include/mwlocal.h"}), sdist="x.tar.gz",
        sdist_files=frozenset({"PKG-INFO"}),
    )
    facts = Facts(logs=(_log("sdist-header.build.log", "build"),), project=project)
    assert expected in _only(diagnose(facts), "sdist-incomplete").fix


def test_sdist_lacking_native_sources_is_a_warning_when_the_log_names_nothing() -> None:
    project = ProjectFacts(
        tree_files=frozenset({"src/a.c", "src/b.h", "tests/t.c", "setup.py"}),
        sdist="x.tar.gz", sdist_files=frozenset({"src/a.c", "setup.py"}),
    )
    log = LogText(ID, "build", f"logs/{ID}/build.log", "error: something odd\n", "failed")
    finding = _only(diagnose(Facts(logs=(log,), project=project)), "sdist-incomplete")
    assert finding.severity == "warning" and "src/b.h" in finding.cause
    assert "tests/t.c" not in finding.cause


# ------------------------------------------------------------------ auditwheel


def _arc4random() -> VersionedSymbol:
    return VersionedSymbol("arc4random", "GLIBC_2.36", "libc.so.6",
                           "broken_symbols/_ext.cpython-312-x86_64-linux-gnu.so")


def test_too_recent_symbols_names_symbols_policy_and_older_image() -> None:
    wheel = "broken_symbols-0.1.0-cp312-cp312-linux_x86_64.whl"
    audit = WheelAudit(wheel, ID, symbols=(
        VersionedSymbol("PyLong_FromUnsignedLong", "GLIBC_2.2.5", "libc.so.6", "x.so"),
        _arc4random(),
    ))
    facts = Facts(logs=(_log("too-recent.repair.log", "repair"),), audits=(audit,),
                  plat="manylinux_2_28_x86_64")
    findings = diagnose(facts)
    finding = _only(findings, "too-recent-symbols")
    assert "arc4random@GLIBC_2.36 (needs manylinux_2_36_x86_64)" in finding.cause
    assert "manylinux_2_28_x86_64" in finding.cause
    assert 'image = "quay.io/pypa/manylinux_2_28_x86_64"' in finding.fix
    assert 'plat = "manylinux_2_36_x86_64"' in finding.fix
    assert finding.log == f"logs/{ID}/repair.log"


def test_too_recent_without_elf_facts_uses_auditwheel_versions() -> None:
    facts = Facts(logs=(_log("too-recent.repair.log", "repair"),))
    finding = _only(diagnose(facts), "too-recent-symbols")
    assert "libc.so.6 GLIBC_2.2.5, GLIBC_2.36" in finding.cause
    assert "manylinux_2_36_x86_64 at best" in finding.cause


def test_too_recent_is_predicted_from_raw_wheels_before_repair() -> None:
    audit = WheelAudit("w-cp312-cp312-linux_x86_64.whl", ID, symbols=(_arc4random(),))
    finding = _only(diagnose(Facts(audits=(audit,), plat="manylinux2014_x86_64")),
                    "too-recent-symbols")
    assert "repair for manylinux2014_x86_64 will fail" in finding.cause
    assert "quay.io/pypa/manylinux2014_x86_64" in finding.fix


def test_library_not_found_suggests_ld_library_path_from_the_link_line_or_exclude() -> None:
    facts = Facts(logs=(_log("hiddenlib.build.log", "build", "passed"),
                        _log("hiddenlib.repair.log", "repair")))
    finding = _only(diagnose(facts), "library-not-found")
    assert "libmwhidden.so.1" in finding.cause and "/opt/mwhidden/lib" in finding.cause
    assert 'LD_LIBRARY_PATH = "/opt/mwhidden/lib"' in finding.fix
    assert "auditwheel repair --exclude libmwhidden.so.1" in finding.fix


def test_library_not_found_from_auditwheel_show_before_repair() -> None:
    show = json.loads((DATA / "hiddenlib.show.json").read_text())
    facts = Facts(logs=(_log("hiddenlib.build.log", "build", "passed"),),
                  audits=(WheelAudit(show["wheel"], ID, show=show),))
    finding = _only(diagnose(facts), "library-not-found")
    assert "libmwhidden.so.1" in finding.cause and "not found" in (finding.evidence or "")


def test_isa_extensions_name_the_level_and_the_flags_to_drop() -> None:
    finding = _only(diagnose(Facts(logs=(_log("isa.repair.log", "repair"),))), "isa-extensions")
    assert "x86_64_v3" in finding.cause and "_ext.cpython-312-x86_64-linux-gnu.so" in finding.cause
    assert "-march" in finding.fix and "-mneeded" in finding.fix


def test_auditwheel_show_reports_vendored_libraries_and_the_capping_versions() -> None:
    show = json.loads((DATA / "too-recent.show.json").read_text())
    show["external_libs"] = {"libyaml-0.so.2": "/usr/lib/x86_64-linux-gnu/libyaml-0.so.2"}
    facts = Facts(audits=(WheelAudit(show["wheel"], ID, show=show),))
    info = [f for f in diagnose(facts) if f.check == "auditwheel-show"]
    assert all(f.severity == "info" for f in info)
    text = " | ".join(f.cause for f in info)
    assert "repair will vendor libyaml-0.so.2 (/usr/lib/x86_64-linux-gnu/libyaml-0.so.2)" in text
    assert "cap the policy at manylinux_2_36_x86_64: GLIBC_2.36 (libc.so.6)" in text
    assert short_lines(diagnose(facts)) == []  # information only


# ------------------------------------------------------------------ package index


@pytest.mark.parametrize("name", ["tls-uv.build.log", "tls-pip.build.log"])
def test_tls_failure_points_at_the_ca_bundle(name: str) -> None:
    facts = Facts(logs=(_log(name, "build"),), ca_bundle="/tmp/wrong-ca.pem")
    finding = _only(diagnose(facts), "index-tls")
    assert "index.invalid" in finding.cause and "/tmp/wrong-ca.pem" in finding.cause
    assert "SSL_CERT_FILE" in finding.fix


@pytest.mark.parametrize("name", ["index-uv.build.log", "index-pip.build.log"])
def test_unreachable_loopback_index_is_named(name: str) -> None:
    finding = _only(diagnose(Facts(logs=(_log(name, "build"),))), "index-unreachable")
    assert "127.0.0.1:9" in finding.cause
    assert "container's own loopback" in finding.fix


def test_unreachable_index_with_unpassed_proxy_suggests_environment_pass() -> None:
    text = (DATA / "index-pip.build.log").read_text().replace("127.0.0.1:9", "mirror.corp:80")
    log = LogText(ID, "build", f"logs/{ID}/build.log", text, "failed")
    facts = Facts(logs=(log,), host_variables=("HTTPS_PROXY", "HTTP_PROXY"))
    finding = _only(diagnose(facts), "index-unreachable")
    assert 'environment-pass = ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"]' in finding.fix


# ------------------------------------------------------------------ wheels and tree


def _pure_report() -> dict[str, object]:
    return {"targets": {ID: {"stages": {"build": {
        "status": "passed", "pure": True, "wheel": "broken_pure-0.1.0-py3-none-any.whl",
        "log": f"logs/{ID}/build.log"}}}}}


def test_pure_wheel_with_native_sources_says_declare_the_extension() -> None:
    project = ProjectFacts(tree_files=frozenset({"broken_pure/_speedups.c", "pyproject.toml"}),
                           build_backend="setuptools.build_meta")
    facts = Facts(report=_pure_report(), project=project,
                  logs=(_log("pure.build.log", "build", "passed"),))
    finding = _only(diagnose(facts), "pure-wheel")
    assert finding.severity == "error"
    assert "broken_pure-0.1.0-py3-none-any.whl" in finding.cause
    assert "broken_pure/_speedups.c" in finding.cause
    assert "ext_modules=" in finding.fix


def test_pure_wheel_without_sources_says_no_container_needed() -> None:
    facts = Facts(report=_pure_report(), project=ProjectFacts(tree_files=frozenset({"a.py"})))
    finding = _only(diagnose(facts), "pure-wheel")
    assert finding.severity == "warning" and "python -m build --wheel" in finding.fix


def test_pure_wheel_from_a_failed_optional_extension() -> None:
    log = LogText(ID, "build", f"logs/{ID}/build.log",
                  "building 'x._speedups'\nWARNING: The C extension could not be compiled, "
                  "speedups are not enabled.\n", "passed")
    facts = Facts(report=_pure_report(), logs=(log,), project=ProjectFacts())
    finding = _only(diagnose(facts), "pure-wheel")
    assert "optional C extension failed" in finding.cause


def test_stale_products_named_with_a_remove_command() -> None:
    stale = ("build/", "pkg/_ext.cpython-312-x86_64-linux-gnu.so", "pkg.egg-info/")
    finding = _only(diagnose(Facts(project=ProjectFacts(stale=stale))), "stale-build-products")
    assert finding.severity == "warning"
    for name in stale:
        assert name in finding.cause
    assert "rm -rf build pkg/_ext.cpython-312-x86_64-linux-gnu.so pkg.egg-info" in finding.fix


def test_stale_so_shipped_in_the_sdist_is_an_error() -> None:
    project = ProjectFacts(stale=("pkg/_ext.so",), sdist="pkg-1.tar.gz",
                           sdist_files=frozenset({"pkg/_ext.so", "pkg/_ext.c"}))
    finding = _only(diagnose(Facts(project=project)), "stale-build-products")
    assert finding.severity == "error" and "pkg-1.tar.gz contains" in finding.cause


# ------------------------------------------------------------------ engine and image


_NO_SOCKET = ("no container engine answers at unix:///tmp/nothing.sock (no socket there): "
              "start one")


def test_engine_absent() -> None:
    engine = EngineFacts("unix:///tmp/nothing.sock", _NO_SOCKET, "/tmp/nothing.sock", False, ())
    finding = _only(diagnose(Facts(engine=engine)), "engine")
    assert "no container engine is installed" in finding.cause
    assert "apt-get install -y docker.io" in finding.fix


def test_engine_not_running() -> None:
    engine = EngineFacts("unix:///tmp/nothing.sock", _NO_SOCKET, "/tmp/nothing.sock", False,
                         ("docker",))
    finding = _only(diagnose(Facts(engine=engine)), "engine")
    assert "not running" in finding.cause and "systemctl start docker" in finding.fix


def test_engine_unreachable_tcp() -> None:
    error = "no container engine answers at tcp://127.0.0.1:9 (nothing is listening there)"
    finding = _only(diagnose(Facts(engine=EngineFacts("tcp://127.0.0.1:9", error))), "engine")
    assert "tcp://127.0.0.1:9 does not answer" in finding.cause and "DOCKER_HOST" in finding.fix


def test_engine_permission_denied() -> None:
    error = "permission denied on the container engine socket at unix:///var/run/docker.sock"
    engine = EngineFacts("unix:///var/run/docker.sock", error, "/var/run/docker.sock", True,
                         ("docker",))
    finding = _only(diagnose(Facts(engine=engine)), "engine")
    assert "permission denied" in finding.cause and "usermod -aG docker" in finding.fix


def test_disk_space_threshold() -> None:
    engine = EngineFacts("unix:///x", data_root="/var/lib/docker", free_bytes=3 * 1024**3)
    assert not diagnose(Facts(engine=engine, min_free_bytes=2 * 1024**3))
    finding = _only(diagnose(Facts(engine=engine, min_free_bytes=10 * 1024**3)), "disk-space")
    assert "3.0 GiB free" in finding.cause and "/var/lib/docker" in finding.cause
    assert "docker system prune" in finding.fix


def test_image_absent_and_not_pullable_lists_local_images() -> None:
    error = ("image 'localhost:1/absent:never' is not present locally and could not be pulled: "
             "dial tcp 127.0.0.1:1: connect: connection refused")
    image = ImageFacts("localhost:1/absent:never", present=False, error=error,
                       local_images=("manywheels-test:abc", "debian:12"))
    finding = _only(diagnose(Facts(image=image)), "image")
    assert "cannot be reached" in finding.cause
    assert "docker save" in finding.fix and "--image manywheels-test:abc" in finding.fix


def test_image_that_does_not_exist() -> None:
    error = ("image 'quay.io/pypa/manylinux_2_99_x86_64' is not present locally and could not "
             "be pulled: manifest unknown")
    image = ImageFacts("quay.io/pypa/manylinux_2_99_x86_64", present=False, error=error)
    finding = _only(diagnose(Facts(image=image)), "image")
    assert "does not exist" in finding.cause and "quay.io/pypa/manylinux_2_28_x86_64" in finding.fix


def test_python_tag_not_in_image_lists_what_it_has() -> None:
    image = _image(pythons=("cp310", "cp311", "cp312"))
    finding = _only(diagnose(Facts(image=image, requested_pythons=("cp38", "cp312"))),
                    "python-tag")
    assert "cp38 is not in image" in finding.cause and "cp310 cp311 cp312" in finding.cause
    assert "--python cp312" in finding.fix


# ------------------------------------------------------------------ fallback and output


def test_unexplained_failure_names_the_telling_line_and_the_log() -> None:
    text = "compiling\nsrc/x.c:9:1: error: expected ';' before '}' token\nmore\n"
    log = LogText(ID, "build", f"logs/{ID}/build.log", text, "failed")
    finding = _only(diagnose(Facts(logs=(log,), output_dir="/w/wheelhouse")), "stage-failed")
    assert "expected ';'" in finding.cause
    assert f"/w/wheelhouse/logs/{ID}/build.log" in finding.fix
    assert f"/w/wheelhouse/logs/{ID}/build.sh" in finding.fix


def test_unexplained_sdist_failure_names_the_sdist_log_and_no_script() -> None:
    text = "+ python -m build --sdist\nerror: invalid command 'sdist'\n"
    log = LogText("sdist", "sdist", "logs/sdist/sdist.log", text, "failed")
    finding = _only(diagnose(Facts(logs=(log,), output_dir="/w/wheelhouse")), "stage-failed")
    assert "/w/wheelhouse/logs/sdist/sdist.log" in finding.fix
    assert ".sh" not in finding.fix
    assert "python -m build --sdist" in finding.fix


@pytest.mark.parametrize(
    ("error", "stage", "diagnosable"),
    [
        (SdistBuildError("building the sdist failed with exit code 1; log: x"), "sdist", True),
        (BeforeAllError("dnf install -y x", 1), "before-all", True),
        (PythonTagMissingError("python tag cp38 is not in image i"), None, True),
        (StageFailedError("repair", {ID: "boom"}), "repair", True),
        (StageFailedError("publish", {ID: "boom"}), "publish", False),
        (EngineUnavailableError("no engine"), None, True),
        (ImageNotFoundError("no image"), None, True),
        # the message alone never decides: generic classes are not diagnosed
        (ProjectError("building the sdist failed"), None, False),
        (CommandError("before-all", 1), None, False),
        (ConfigError("python tag cp38 is not in image i"), None, False),
    ],
)
def test_diagnosis_dispatches_on_the_error_type(
    error: ManywheelsError, stage: str | None, diagnosable: bool
) -> None:
    assert failed_stage(error) == stage
    assert is_diagnosable(error) is diagnosable


def test_errors_come_first_and_outputs_render() -> None:
    facts = Facts(
        logs=(_log("missing-header.build.log", "build"),),
        image=_image(), project=ProjectFacts(stale=("build/",)),
        engine=EngineFacts("unix:///x", free_bytes=1, data_root="/d"),
    )
    findings = diagnose(facts)
    assert [f.severity for f in findings] == ["error", "warning", "warning"]
    lines = short_lines(findings, limit=2)
    assert len(lines) == 3 and lines[-1] == "... and 1 more"
    assert lines[0].startswith(f"{ID}: the compile needs header yaml.h") and " -> fix: " in lines[0]
    report = report_lines(findings)
    assert report[0].startswith("[error] missing-header: ")
    assert report[-1] == "1 error(s), 2 warning(s), 0 info(s)"
    document = json.loads(to_json(findings, facts))
    assert document["version"] == 1 and document["counts"]["error"] == 1
    assert set(document["findings"][0]) == {
        "check", "cause", "fix", "severity", "identifier", "log", "evidence"}
    assert report_lines([]) == ["no problems found"]


# ------------------------------------------------------------------ building blocks


def test_package_tables() -> None:
    assert package_manager_from_env({"AUDITWHEEL_POLICY": "manylinux2014"}) == "yum"
    assert package_manager_from_env({"AUDITWHEEL_POLICY": "manylinux_2_28"}) == "dnf"
    assert package_manager_from_env({"AUDITWHEEL_POLICY": "manylinux_2_34"}) == "dnf"
    assert package_manager_from_env({"AUDITWHEEL_PLAT": "musllinux_1_2_x86_64"}) == "apk"
    assert package_manager_from_env({}) is None
    assert likely_package("header", "openssl/ssl.h", "apt-get").name == "libssl-dev"
    assert likely_package("pkg-config", "yaml-0.1", "dnf").name == "libyaml-devel"
    guess = likely_package("header", "frob/frob.h", "apk")
    assert guess.name == "frob-dev" and not guess.known
    assert install_command("apt-get", ["a", "b"]) == "apt-get update && apt-get install -y a b"
    assert search_command("dnf", "header", "frob.h") == "dnf provides '*/frob.h'"
    assert "apt-file search frob.h" in search_command("apt-get", "header", "frob.h")
    with pytest.raises(ValueError, match="unknown package manager 'brew'"):
        install_command("brew", ["x"])


def test_policies_from_auditwheel() -> None:
    assert policy_allowing("GLIBC_2.36", "x86_64") == "manylinux_2_36_x86_64"
    assert policy_allowing("GLIBC_2.17", "x86_64") == "manylinux_2_17_x86_64"
    parsed = split_plat("manylinux2014_x86_64")
    assert parsed is not None and parsed[0].name == "manylinux_2_17" and parsed[1] == "x86_64"
    assert split_plat("linux_x86_64") is None
    assert too_recent([_arc4random()], "manylinux_2_36_x86_64") == []
    assert too_recent([_arc4random()], "manylinux_2_35_x86_64")[0][1] == "manylinux_2_36_x86_64"


def test_log_patterns_on_other_toolchains() -> None:
    clang = "x.c:1:10: fatal error: 'zlib.h' file not found\n"
    assert [m.value for m in patterns.missing_headers(clang)] == ["zlib.h"]
    pkgconf = "Package yaml-0.1 was not found in the pkg-config search path.\n"
    assert [m.value for m in patterns.missing_pkgconfig(pkgconf)] == ["yaml-0.1"]
    meson = 'meson.build:3:0: ERROR: Dependency "libxml-2.0" not found, tried pkgconfig\n'
    assert [m.value for m in patterns.missing_pkgconfig(meson)] == ["libxml-2.0"]
    apt = "E: Unable to locate package libfrob-dev\n"
    assert [m.value for m in patterns.missing_packages(apt)] == ["libfrob-dev"]
    assert [m.value for m in patterns.missing_files(
        "FileNotFoundError: [Errno 2] No such file or directory: 'README.md'\n")] == ["README.md"]


def test_split_args_takes_the_stage_flags_out() -> None:
    options, rest = split_args(["--json", "--python", "cp312", "--min-free-gib", "2.5"])
    assert options == TroubleshootOptions(json=True, min_free_gib=2.5)
    assert rest == ["--python", "cp312"]
    assert split_args(["--min-free-gib=0"])[0].min_free_gib == 0
    with pytest.raises(ConfigError, match="--min-free-gib"):
        split_args(["--min-free-gib", "lots"])


def test_before_all_package_unknown_to_the_package_manager() -> None:
    log = LogText("before-all", "before-all", "logs/before-all/before-all.log",
                  "Reading package lists...\nE: Unable to locate package libfrob-devel\n",
                  "failed")
    finding = _only(diagnose(Facts(logs=(log,), image=_image("apt-get"))), "before-all-package")
    assert "has no package libfrob-devel" in finding.cause
    assert "apt-cache search frob" in finding.fix
    assert search_command("dnf", "package", "libfrob-devel") == "dnf search frob"


def test_findings_differing_only_in_identifier_share_a_line() -> None:
    first = _log("missing-header.build.log", "build")
    second = LogText("cp311-manylinux_x86_64", "build", "logs/cp311-manylinux_x86_64/build.log",
                     first.text, "failed")
    findings = diagnose(Facts(logs=(second, first), image=_image()))
    assert len(findings) == 2
    (line,) = short_lines(findings)
    assert line.startswith("cp311-manylinux_x86_64, cp312-manylinux_x86_64: the compile needs")
    assert len([x for x in report_lines(findings) if x.startswith("[error]")]) == 1


def test_unvendored_library_named_from_the_test_image_probe_line() -> None:
    text = ("AssertionError\nmanywheels: in test-image python:3.12-slim, not found by the "
            "dynamic linker (neither vendored in the wheel nor in the image): "
            "yaml/_yaml.cpython-312-x86_64-linux-gnu.so: libyaml-0.so.2\n")
    log = LogText(ID, "test", f"logs/{ID}/test.log", text, "failed")
    finding = _only(diagnose(Facts(logs=(log,))), "unvendored-library")
    assert "needs libyaml-0.so.2 at run time" in finding.cause
    assert "the test image python:3.12-slim" in finding.cause
    assert "--exclude" in finding.fix
    assert finding.identifier == ID


def test_unvendored_library_named_from_an_import_error() -> None:
    text = ("ImportError: libfoo.so.1: cannot open shared object file: No such file or "
            "directory\n")
    log = LogText(ID, "test", f"logs/{ID}/test.log", text, "failed")
    finding = _only(diagnose(Facts(logs=(log,))), "unvendored-library")
    assert "needs libfoo.so.1" in finding.cause
