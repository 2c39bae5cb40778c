"""``publish.attestations``: the signing command, the OIDC identity check before any
upload, and ``twine upload --attestations`` (no network, no pypi-attestations needed)."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from manywheels._ui import UI
from manywheels.config import OPTIONS, load_config
from manywheels.errors import ExitCode, PublishError
from manywheels.plan._record import RunReport
from manywheels.stages import publish as publish_stage
from manywheels.stages.publish import _twine
from manywheels.stages.publish._attest import (
    attestation_path,
    check_attestations,
    has_oidc_identity,
    sign_all,
    sign_command,
)
from manywheels.stages.publish._twine import Redactor, UploadPlan, upload_all
from tests.unit.stages.test_publish_logic import (
    WHEEL,
    env_with_home,
    make_config,
    record_tested,
    touch,
)

IDENTITY = {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.example/x",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "secret"}


def quiet_ui() -> UI:
    return UI(Console(file=StringIO(), width=200), echo=False, live=False)


def test_the_option_is_a_publish_key(tmp_path: Path) -> None:
    assert "publish.attestations" in {option.key for option in OPTIONS}
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1.0"\n'
        "[tool.manywheels.publish]\nattestations = true\n")
    assert load_config(tmp_path, env={}).attestations is True
    assert load_config(tmp_path, env={}, overrides={"attestations": False}).attestations is False


def test_sign_command_is_the_pypi_attestations_cli(tmp_path: Path) -> None:
    files = [tmp_path / "a.whl", tmp_path / "a.tar.gz"]
    assert sign_command(files, python="/py") == [
        "/py", "-m", "pypi_attestations", "sign", str(files[0]), str(files[1])]
    assert sign_command(files)[0] == sys.executable
    assert attestation_path(files[0]) == tmp_path / "a.whl.publish.attestation"


def test_identity_needs_both_variables() -> None:
    assert has_oidc_identity(IDENTITY)
    assert not has_oidc_identity({"ACTIONS_ID_TOKEN_REQUEST_URL": "https://x"})
    assert not has_oidc_identity({**IDENTITY, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": ""})


def test_check_refuses_without_identity_or_package() -> None:
    with pytest.raises(PublishError, match="no ambient OIDC identity") as caught:
        check_attestations({}, installed=True)
    assert caught.value.exit_code == ExitCode.PUBLISH == 8
    assert "\n" not in str(caught.value)
    with pytest.raises(PublishError, match=r"pip install 'manywheels\[attest\]'"):
        check_attestations(IDENTITY, installed=False)
    check_attestations(IDENTITY, installed=True)


def test_publish_without_identity_uploads_nothing(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config(tmp_path, attestations=True)
    wheel = touch(config.output_dir / WHEEL)
    record_tested(RunReport(config.output_dir), wheel)

    def no_further(*args: object, **kwargs: object) -> None:
        msg = "went past the identity check"
        raise AssertionError(msg)

    monkeypatch.setattr(publish_stage, "resolve_target", no_further)
    monkeypatch.setattr(publish_stage, "upload_all", no_further)
    with pytest.raises(PublishError, match="no ambient OIDC identity") as caught:
        publish_stage.publish(config, quiet_ui(), env=env_with_home(tmp_path))
    assert caught.value.exit_code == 8


def test_sign_all_runs_the_cli_and_checks_its_output(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    files = [touch(tmp_path / WHEEL), touch(tmp_path / "demo-1.0.tar.gz")]
    attestation_path(files[0]).write_text("stale")
    seen: list[list[str]] = []

    def fake_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(command)
        assert kwargs["env"]["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] == "secret"
        for name in command[4:]:
            attestation_path(Path(name)).write_text("{}")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    notes: list[str] = []
    sign_all(files, env=IDENTITY, note=notes.append)
    assert seen == [sign_command(files)]
    assert notes[0].startswith("python -m pypi_attestations sign ")
    assert attestation_path(files[0]).read_text() == "{}"


def test_sign_all_failure_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [touch(tmp_path / WHEEL)]

    def failing(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "Traceback\nOIDC token refused\n")

    monkeypatch.setattr(subprocess, "run", failing)
    with pytest.raises(PublishError, match=r"signing failed \(exit 1\): OIDC token refused"):
        sign_all(files, env=IDENTITY)

    def silent(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", silent)
    with pytest.raises(PublishError, match="no attestation written for"):
        sign_all(files, env=IDENTITY)


def test_upload_passes_the_attestations_flag(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config(tmp_path)
    wheel = touch(tmp_path / WHEEL)
    target = publish_stage.resolve_target(config, env_with_home(tmp_path))
    calls: list[list[str]] = []

    def fake_twine(args: list[str], **kwargs: object) -> tuple[int, list[str]]:
        calls.append(list(args))
        return 0, []

    monkeypatch.setattr(_twine, "run_twine", fake_twine)
    plan = UploadPlan([wheel], [], target, "demo")
    uploaded = upload_all(plan, env={}, sink=_twine.ConsoleSink(quiet_ui()), redact=Redactor(),
                          ui=quiet_ui(), session=None,  # type: ignore[arg-type]
                          extra_args=["--attestations"])
    assert uploaded == [wheel]
    assert calls[0][0] == "upload"
    assert calls[0][-2:] == ["--attestations", str(wheel)]
