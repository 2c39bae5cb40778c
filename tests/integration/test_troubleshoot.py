"""Troubleshooting against real failures: each check's failure is produced for real (a
broken project compiling in a container, a stale .so in the tree, a DOCKER_HOST with no
daemon, a wheel linked against a library off the loader path...) and the diagnosis must
name the cause and the fix. Where the fix is mechanical, it is applied and the build
must then pass.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from manywheels._ui import UI
from manywheels.config import load_config
from manywheels.diagnose import Finding
from manywheels.engine._docker import DockerEngine as Engine
from manywheels.errors import (
    BeforeAllError,
    EngineUnavailableError,
    ImageNotFoundError,
    ManywheelsError,
    PythonTagMissingError,
    SdistBuildError,
    StageFailedError,
)
from manywheels.stages._run import Run
from manywheels.stages.build import build
from manywheels.stages.repair import repair
from manywheels.stages.troubleshoot import (
    ProblemsFoundError,
    TroubleshootOptions,
    quick_diagnosis,
    troubleshoot,
)

PACKAGES = Path(__file__).resolve().parents[1] / "packages"
ID = "cp312-manylinux_x86_64"
NOXFILE = "import manywheels.nox\nmanywheels.nox.register()\n"


def _project(tmp_path: Path, name: str) -> Path:
    project = tmp_path / name
    shutil.copytree(PACKAGES / name, project)
    return project


def _run(project: Path, test_image: str, host_env: dict[str, str] | None = None,
         **overrides: Any) -> Run:
    settings: dict[str, Any] = {"image": test_image, "python": ["cp312"], "jobs": 1}
    settings.update(overrides)
    config = load_config(project, overrides=settings, env={})
    return Run(config, UI(echo=False), host_env=host_env)


def _failure(run: Run, *stages: Any) -> ManywheelsError:
    with pytest.raises(ManywheelsError) as caught:
        for stage in stages:
            stage(run)
    return caught.value


def _only(findings: list[Finding], check: str) -> Finding:
    matching = [f for f in findings if f.check == check]
    assert len(matching) == 1, findings
    return matching[0]


def _full(run: Run, **options: Any) -> list[Finding]:
    try:
        return troubleshoot(run, TroubleshootOptions(**options))
    except ProblemsFoundError as error:
        return error.findings


@pytest.fixture
def nox_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MANYWHEELS_")}


def _nox(project: Path, session: str, env: dict[str, str], *posargs: str
         ) -> subprocess.CompletedProcess[str]:
    (project / "noxfile.py").write_text(NOXFILE)
    argv = [sys.executable, "-m", "nox", "-s", session]
    if posargs:
        argv += ["--", *posargs]
    return subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True,
                          timeout=900, check=False)


# ------------------------------------------------------------------ compile failures


def test_missing_header_diagnosed_and_the_suggested_before_all_fixes_it(
    tmp_path: Path, test_image: str
) -> None:
    project = _project(tmp_path, "broken-header")
    with _run(project, test_image) as run:
        error = _failure(run, build)
        assert isinstance(error, StageFailedError)
        finding = _only(quick_diagnosis(run, error), "missing-header")
    assert "yaml.h" in finding.cause and "libyaml-dev" in finding.cause
    assert finding.identifier == ID and finding.log == f"logs/{ID}/build.log"
    match = re.search(r'before-all = "([^"]+)"', finding.fix)
    assert match and match[1] == "apt-get update && apt-get install -y libyaml-dev"
    # The fix, applied as given, makes the build pass.
    with _run(project, test_image, before_all=match[1]) as fixed:
        build(fixed)
    assert list((project / "dist").glob("broken_header-0.1.0-cp312-*.whl"))


def test_missing_library_diagnosed(tmp_path: Path, test_image: str) -> None:
    with _run(_project(tmp_path, "broken-link"), test_image) as run:
        finding = _only(quick_diagnosis(run, _failure(run, build)), "missing-library")
    assert "-lmwabsent" in finding.cause
    assert "apt-get install -y libmwabsent-dev" in finding.fix
    assert "apt-file search libmwabsent.so" in finding.fix


def test_sdist_lacking_a_header_diagnosed_and_manifest_fix_works(
    tmp_path: Path, test_image: str
) -> None:
    project = _project(tmp_path, "broken-sdist")
    with _run(project, test_image) as run:
        findings = quick_diagnosis(run, _failure(run, build))
    finding = _only(findings, "sdist-incomplete")
    assert "broken_sdist-0.1.0.tar.gz lacks include/mwlocal.h" in finding.cause
    assert "MANIFEST.in (include include/mwlocal.h)" in finding.fix
    assert not [f for f in findings if f.check == "missing-header"]
    # The build from the tree has the header; with the suggested MANIFEST.in line the
    # build from the sdist passes too.
    with (project / "MANIFEST.in").open("a") as manifest:
        manifest.write("include include/mwlocal.h\n")
    with _run(project, test_image) as fixed:
        build(fixed)


# ------------------------------------------------------------------ auditwheel


def test_too_recent_symbols_named_with_the_policy_they_allow(
    tmp_path: Path, test_image: str
) -> None:
    project = _project(tmp_path, "broken-symbols")
    with _run(project, test_image, plat="manylinux_2_28_x86_64") as run:
        build(run)
        # Before any repair, troubleshoot predicts the failure from the raw wheel.
        predicted = _only(_full(run), "too-recent-symbols")
        error = _failure(run, repair)
        finding = _only(quick_diagnosis(run, error), "too-recent-symbols")
    assert "repair for manylinux_2_28_x86_64 will fail" in predicted.cause
    for found in (predicted, finding):
        assert "arc4random@GLIBC_2.36 (needs manylinux_2_36_x86_64)" in found.cause
        assert 'image = "quay.io/pypa/manylinux_2_28_x86_64"' in found.fix
    assert finding.log == f"logs/{ID}/repair.log"
    assert "too-recent versioned symbols" in (finding.evidence or "")


def test_library_off_the_loader_path_diagnosed_and_ld_library_path_fixes_it(
    tmp_path: Path, test_image: str
) -> None:
    project = _project(tmp_path, "broken-hiddenlib")
    with _run(project, test_image) as run:
        build(run)
        shown = _only(_full(run), "library-not-found")  # from auditwheel show, pre-repair
        finding = _only(quick_diagnosis(run, _failure(run, repair)), "library-not-found")
    assert "libmwhidden.so.1" in shown.cause
    assert "libmwhidden.so.1" in finding.cause and "/opt/mwhidden/lib" in finding.cause
    assert "auditwheel repair --exclude libmwhidden.so.1" in finding.fix
    match = re.search(r'LD_LIBRARY_PATH = "([^"]+)"', finding.fix)
    assert match and match[1] == "/opt/mwhidden/lib"
    with _run(project, test_image, environment={"LD_LIBRARY_PATH": match[1]}) as fixed:
        build(fixed)
        info = [f for f in _full(fixed) if f.check == "auditwheel-show"]
        repair(fixed)
    assert any("repair will vendor libmwhidden.so.1 (/opt/mwhidden/lib/libmwhidden.so.1)"
               in f.cause for f in info)
    assert list((project / "wheelhouse").glob("broken_hiddenlib-*manylinux*.whl"))


def test_unsupported_isa_extensions_diagnosed(tmp_path: Path, test_image: str) -> None:
    with _run(_project(tmp_path, "broken-isa"), test_image) as run:
        build(run)
        finding = _only(quick_diagnosis(run, _failure(run, repair)), "isa-extensions")
    assert "x86_64_v3" in finding.cause and "-march" in finding.fix


def test_auditwheel_show_reports_what_caps_the_policy(tmp_path: Path, test_image: str) -> None:
    with _run(_project(tmp_path, "broken-symbols"), test_image) as run:
        build(run)
        findings = _full(run)
    assert not [f for f in findings if f.severity == "error"], findings
    info = [f.cause for f in findings if f.check == "auditwheel-show"]
    assert any("cap the policy at manylinux_2_36_x86_64: GLIBC_2.36 (libc.so.6)" in c
               for c in info), info


# ------------------------------------------------------------------ package index


def _wrong_ca(path: Path) -> Path:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "manywheels wrong CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_tls_verification_failing_in_the_container(tmp_path: Path, test_image: str) -> None:
    bundle = _wrong_ca(tmp_path / "wrong-ca.pem")
    host_env = {**os.environ, "SSL_CERT_FILE": str(bundle)}
    with _run(_project(tmp_path, "stale-inplace"), test_image, host_env=host_env) as run:
        finding = _only(quick_diagnosis(run, _failure(run, build)), "index-tls")
    assert "TLS verification fails in the container" in finding.cause
    assert str(bundle) in finding.cause
    assert "SSL_CERT_FILE" in finding.fix


def test_index_unreachable_from_the_container(tmp_path: Path, test_image: str) -> None:
    bad = "http://127.0.0.1:9/simple"
    host_env = {**os.environ, "PIP_INDEX_URL": bad, "UV_INDEX_URL": bad,
                "UV_DEFAULT_INDEX": bad}
    with _run(_project(tmp_path, "stale-inplace"), test_image, host_env=host_env) as run:
        finding = _only(quick_diagnosis(run, _failure(run, build)), "index-unreachable")
    assert "127.0.0.1:9 cannot be reached from the container" in finding.cause
    assert "container's own loopback" in finding.fix


# ------------------------------------------------------------------ wheels and tree


def test_pure_wheel_where_a_platform_wheel_was_expected(tmp_path: Path, test_image: str) -> None:
    with _run(_project(tmp_path, "broken-pure"), test_image) as run:
        build(run)
        finding = _only(_full(run), "pure-wheel")
    assert "broken_pure-0.1.0-py3-none-any.whl is pure Python" in finding.cause
    assert "broken_pure/_speedups.c" in finding.cause and "ext_modules=" in finding.fix


def test_stale_so_in_the_tree_named_and_caught_in_the_sdist(
    tmp_path: Path, test_image: str
) -> None:
    project = _project(tmp_path, "stale-inplace")
    # A developer's in-place build leaves build/ and an .so in the package directory.
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=project,
                   check=True, capture_output=True)
    stale_so = sorted(p.relative_to(project).as_posix()
                      for p in (project / "stale_inplace").glob("*.so"))
    assert stale_so
    with _run(project, test_image) as run:
        build(run)  # MANIFEST.in grafts the package directory: the .so rides along
        finding = _only(_full(run), "stale-build-products")
    assert finding.severity == "error"
    assert stale_so[0] in finding.cause and "contains stale build products" in finding.cause
    assert f"rm -rf build {stale_so[0]}" in finding.fix


def test_healthy_run_has_no_errors_and_low_disk_threshold_warns(
    tmp_path: Path, test_image: str
) -> None:
    with _run(_project(tmp_path, "stale-inplace"), test_image) as run:
        build(run)
        repair(run)
        out = io.StringIO()
        findings = troubleshoot(run, TroubleshootOptions(json=True, min_free_gib=0), stdout=out)
        document = json.loads(out.getvalue())
        low = troubleshoot(run, TroubleshootOptions(min_free_gib=1e9))
    assert not [f for f in findings if f.severity != "info"], findings
    assert document["counts"]["error"] == 0 and document["version"] == 1
    disk = _only(low, "disk-space")
    assert disk.severity == "warning" and "GiB free for the container engine" in disk.cause
    assert "docker system prune" in disk.fix


# ------------------------------------------------------------------ engine and image


def test_image_absent_and_not_pullable(tmp_path: Path, test_image: str, engine: Engine
                                       ) -> None:
    absent = "localhost:1/manywheels/absent:never"
    with _run(_project(tmp_path, "stale-inplace"), test_image, image=absent) as run:
        error = _failure(run, build)
        assert isinstance(error, ImageNotFoundError)
        finding = _only(quick_diagnosis(run, error), "image")
    assert absent in finding.cause and "cannot be reached" in finding.cause
    assert "docker load" in finding.fix
    # It offers the local images that can build wheels (the test image is one).
    offered = re.search(r"\(e\.g\. --image (\S+)\)", finding.fix)
    assert offered is not None, finding.fix
    assert "AUDITWHEEL_PLAT" in engine.image(offered[1], pull=False).env


def test_python_tag_not_in_the_image(tmp_path: Path, test_image: str) -> None:
    with _run(_project(tmp_path, "stale-inplace"), test_image, python=["cp38"]) as run:
        error = _failure(run, build)
        assert isinstance(error, PythonTagMissingError)
        finding = _only(quick_diagnosis(run, error), "python-tag")
    assert "cp38 is not in image" in finding.cause and "cp312" in finding.cause
    assert "--python cp39 cp310 cp311 cp312 cp313" in finding.fix


def test_engine_not_running_and_not_installed(tmp_path: Path, test_image: str) -> None:
    project = _project(tmp_path, "stale-inplace")
    nothing = f"unix://{tmp_path}/nothing.sock"
    with _run(project, test_image, host_env={**os.environ, "DOCKER_HOST": nothing}) as run:
        error = _failure(run, build)
        assert isinstance(error, EngineUnavailableError)
        quick = _only(quick_diagnosis(run, error), "engine")
    bare = {"DOCKER_HOST": nothing, "PATH": str(tmp_path / "empty-bin")}
    with _run(project, test_image, host_env=bare) as run:
        absent = _only(_full(run), "engine")
    with _run(project, test_image, host_env={"DOCKER_HOST": "tcp://127.0.0.1:9"}) as run:
        refused = _only(_full(run), "engine")
    if shutil.which("docker") or shutil.which("dockerd") or shutil.which("podman"):
        assert "not running: no socket at" in quick.cause
        assert "systemctl start docker" in quick.fix
    assert "no container engine is installed" in absent.cause
    assert "apt-get install -y docker.io" in absent.fix
    assert "tcp://127.0.0.1:9 does not answer" in refused.cause
    assert "DOCKER_HOST" in refused.fix


def test_nox_prints_the_short_diagnosis_before_the_session_error(
    tmp_path: Path, test_image: str, nox_env: dict[str, str]
) -> None:
    project = _project(tmp_path, "broken-header")
    env = {**nox_env, "MANYWHEELS_IMAGE": test_image, "MANYWHEELS_PYTHON": "cp312"}
    result = _nox(project, "wheels-build", env)
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    diagnosis = next(i for i, line in enumerate(lines) if "diagnosis (full report" in line)
    aborted = next(i for i, line in enumerate(lines) if "Session wheels-build" in line)
    assert diagnosis < aborted
    assert "yaml.h" in lines[diagnosis + 1] and "libyaml-dev" in lines[diagnosis + 1]
    # The full report, for tools: JSON on stdout, the session fails (an error was found).
    report = _nox(project, "wheels-troubleshoot", env, "--json", "--min-free-gib", "0")
    assert report.returncode != 0
    document = json.loads(report.stdout)
    checks = {f["check"] for f in document["findings"]}
    assert "missing-header" in checks, document


def test_nox_troubleshoot_permission_denied_on_the_socket(
    tmp_path: Path, test_image: str, nox_env: dict[str, str]
) -> None:
    project = _project(tmp_path, "stale-inplace")
    path = tmp_path / "engine.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(1)
    path.chmod(0)
    env = {**nox_env, "DOCKER_HOST": f"unix://{path}", "MANYWHEELS_IMAGE": test_image}
    (project / "noxfile.py").write_text(NOXFILE)
    argv = [sys.executable, "-m", "nox", "-s", "wheels-troubleshoot", "--", "--json"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv is not None, (
            "as root, a permission-denied socket needs setpriv (util-linux) to drop "
            "CAP_DAC_OVERRIDE"
        )
        argv = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *argv]
    try:
        result = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True,
                                timeout=300, check=False)
    finally:
        listener.close()
    assert result.returncode != 0
    document = json.loads(result.stdout)
    engine = next(f for f in document["findings"] if f["check"] == "engine")
    assert "permission denied" in engine["cause"] and str(path) in engine["cause"]
    assert "usermod -aG docker" in engine["fix"]


def test_before_all_asking_for_an_unknown_package(tmp_path: Path, test_image: str) -> None:
    wrong = "apt-get install -y libmwnosuchthing-devel"
    with _run(_project(tmp_path, "stale-inplace"), test_image, before_all=wrong) as run:
        error = _failure(run, build)
        assert isinstance(error, BeforeAllError)
        assert str(error).startswith("before-all failed with exit code")
        finding = _only(quick_diagnosis(run, error), "before-all-package")
    assert "(apt-get) has no package libmwnosuchthing-devel" in finding.cause
    assert "apt-cache search mwnosuchthing" in finding.fix
    assert finding.log == "logs/before-all/before-all.log"


def test_failed_sdist_build_diagnosed_with_the_sdist_log(tmp_path: Path, test_image: str) -> None:
    project = _project(tmp_path, "stale-inplace")
    (project / "setup.py").write_text('raise SystemExit("mw: this setup.py refuses to run")\n')
    with _run(project, test_image) as run:
        error = _failure(run, build)
        assert isinstance(error, SdistBuildError)
        assert error.log is not None and error.log.is_file()
        findings = quick_diagnosis(run, error)
        output_dir = run.config.output_dir
    finding = _only(findings, "stage-failed")
    assert finding.log == "logs/sdist/sdist.log"
    assert (output_dir / finding.log).is_file()
    assert f"{output_dir / 'logs/sdist/sdist.log'}" in finding.fix
    assert ".sh" not in finding.fix
    assert finding.cause.startswith("sdist failed") and finding.evidence
    assert "mw: this setup.py refuses to run" in (output_dir / finding.log).read_text()
