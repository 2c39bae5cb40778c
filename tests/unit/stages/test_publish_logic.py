"""Publish: the pure logic (no index, no twine): selection, checks, target, redaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from manywheels._fsutil import sha256_file
from manywheels.config import Config
from manywheels.errors import ExitCode, NothingToDoError, PublishError
from manywheels.plan._record import RunReport
from manywheels.stages.publish import (
    Redactor,
    check_platform_tags,
    check_release,
    check_tested,
    collect_files,
    find_sdist,
    read_record,
    resolve_target,
    unrecorded_files,
)

WHEEL = "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_311 = "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
SDIST = "demo-1.0.tar.gz"


def touch(path: Path, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def make_config(tmp_path: Path, **changes: object) -> Config:
    config = Config(
        project_dir=tmp_path, output_dir=tmp_path / "wheelhouse", dist_dir=tmp_path / "dist"
    )
    return config.with_(**changes)


def record_tested(report: RunReport, wheel: Path, *, status: str = "passed",
                  identifier: str = "cp312-manylinux_x86_64", sha: bool = True,
                  sdist_sha256: str = "5" * 64) -> None:
    """Record a wheel as repaired (and tested with ``status``) from the current sdist."""
    if report.project.sdist_sha256 is None:
        report.set_project(sdist_sha256=sdist_sha256)
    report.set_target(identifier, sdist_sha256=sdist_sha256)
    fields: dict[str, object] = {"status": "passed", "wheel": wheel.name}
    if sha:
        fields["sha256"] = sha256_file(wheel)
    report.record(identifier, "repair", **fields)
    report.record(identifier, "test", status=status)


# --------------------------------------------------------------------------- selection


def test_collect_files_takes_only_what_the_record_names_for_the_current_sdist(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path)
    sdist = touch(config.dist_dir / SDIST, b"sdist")
    report = RunReport(config.output_dir)
    report.set_project(sdist=SDIST, sdist_sha256=sha256_file(sdist))
    current = sha256_file(sdist)
    b = touch(config.output_dir / WHEEL)
    record_tested(report, b, sdist_sha256=current)
    stale = touch(config.output_dir / WHEEL_311)  # a wheel of an older sdist
    record_tested(report, stale, identifier="cp311-manylinux_x86_64", sdist_sha256="0" * 64)
    stray = touch(config.output_dir / "demo-1.0-cp313-cp313-manylinux_2_17_x86_64.whl")
    touch(config.output_dir / "logs" / "nested.whl")
    other_sdist = touch(config.dist_dir / "demo-0.9.tar.gz")
    touch(config.dist_dir / "demo-1.0-cp312-cp312-linux_x86_64.whl")  # raw wheels stay
    record = read_record(RunReport(config.output_dir))
    wheels, found = collect_files(config, record)
    assert wheels == [b]
    assert found == sdist
    assert unrecorded_files(config, record) == [stale, stray, other_sdist]


def test_a_recorded_wheel_missing_from_output_dir_is_an_error(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    report = RunReport(config.output_dir)
    record_tested(report, touch(tmp_path / WHEEL), sha=False)  # recorded, not in output-dir
    with pytest.raises(PublishError, match=rf"names {WHEEL}, but it is not in output-dir"):
        collect_files(config, read_record(report))


def test_the_sdist_the_report_names_wins_over_others(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    touch(config.dist_dir / "demo-0.9.tar.gz")
    sdist = touch(config.dist_dir / SDIST, b"sdist")
    report = RunReport(config.output_dir)
    report.set_project(sdist=SDIST, sdist_sha256=sha256_file(sdist))
    assert find_sdist(config.dist_dir, read_record(report)) == sdist


def test_an_sdist_the_record_does_not_name_is_never_published(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    touch(config.dist_dir / "demo-0.9.tar.gz")
    touch(config.dist_dir / SDIST)
    assert find_sdist(config.dist_dir, read_record(RunReport(config.output_dir))) is None


def test_a_named_sdist_that_is_missing_or_changed_is_an_error(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    report = RunReport(config.output_dir)
    report.set_project(sdist=SDIST, sdist_sha256="0" * 64)
    with pytest.raises(PublishError, match=r"names the sdist demo-1\.0\.tar\.gz, but it is not"):
        find_sdist(config.dist_dir, read_record(report))
    touch(config.dist_dir / SDIST)
    with pytest.raises(PublishError, match="sha256 differs"):
        find_sdist(config.dist_dir, read_record(report))


def test_no_sdist_is_fine_but_nothing_at_all_is_nothing_to_do(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    touch(config.output_dir / WHEEL)  # not in any record: never published
    with pytest.raises(NothingToDoError, match="nothing to publish") as caught:
        collect_files(config, read_record(RunReport(config.output_dir)))
    assert caught.value.exit_code == ExitCode.NOTHING_TO_DO
    report = RunReport(config.output_dir)
    record_tested(report, config.output_dir / WHEEL)
    assert collect_files(config, read_record(report)) == ([config.output_dir / WHEEL], None)


# --------------------------------------------------------------------------- checks


def test_linux_platform_tags_are_refused_by_name(tmp_path: Path) -> None:
    good = tmp_path / WHEEL
    bad = tmp_path / "demo-1.0-cp312-cp312-linux_x86_64.whl"
    check_platform_tags([good, tmp_path / "demo-1.0-cp312-cp312-musllinux_1_2_x86_64.whl"])
    with pytest.raises(PublishError, match=r"refusing demo-1\.0-cp312-cp312-linux_x86_64\.whl "
                                           r"\(linux_x86_64\)") as caught:
        check_platform_tags([good, bad])
    assert WHEEL not in str(caught.value)
    assert caught.value.exit_code == ExitCode.PUBLISH


def test_an_invalid_wheel_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="not a valid wheel file name"):
        check_platform_tags([tmp_path / "not-a-wheel.whl"])


def test_tested_means_repair_wheel_and_test_passed(tmp_path: Path) -> None:
    report = RunReport(tmp_path)
    wheel = touch(tmp_path / WHEEL, b"wheel")
    record_tested(report, wheel)
    assert check_tested([wheel], read_record(report)) == []


@pytest.mark.parametrize(
    ("status", "reason"),
    [("failed", "test failed"), ("skipped", "test skipped"), (None, "not in the run report")],
)
def test_untested_wheels_are_refused_with_the_reason(
    tmp_path: Path, status: str | None, reason: str
) -> None:
    report = RunReport(tmp_path)
    wheel = touch(tmp_path / WHEEL, b"wheel")
    if status is not None:
        record_tested(report, wheel, status=status)
    with pytest.raises(PublishError, match="refusing untested wheels") as caught:
        check_tested([wheel], read_record(report))
    assert f"{WHEEL} ({reason})" in str(caught.value)
    assert "--allow-untested" in str(caught.value)


def test_a_wheel_changed_since_its_test_is_untested(tmp_path: Path) -> None:
    report = RunReport(tmp_path)
    wheel = touch(tmp_path / WHEEL, b"wheel")
    record_tested(report, wheel)
    wheel.write_bytes(b"rebuilt")
    with pytest.raises(PublishError, match="changed since it was tested"):
        check_tested([wheel], read_record(report))


def test_any_target_that_passed_counts(tmp_path: Path) -> None:
    report = RunReport(tmp_path)
    wheel = touch(tmp_path / "demo-1.0-py3-none-any.whl", b"pure")
    record_tested(report, wheel, identifier="a", status="failed")
    record_tested(report, wheel, identifier="b", sha=False)
    assert check_tested([wheel], read_record(report)) == []


def test_allow_untested_warns_instead(tmp_path: Path) -> None:
    wheel = touch(tmp_path / WHEEL)
    warnings: list[str] = []
    untested = check_tested([wheel], read_record(RunReport(tmp_path)), allow_untested=True,
                            warn=warnings.append)
    assert untested == [wheel]
    assert len(warnings) == 1
    assert WHEEL in warnings[0]


def test_one_project_one_version(tmp_path: Path) -> None:
    files = [tmp_path / WHEEL, tmp_path / WHEEL_311, tmp_path / SDIST,
             tmp_path / "Demo-1.0.0-py3-none-any.whl"]
    assert check_release(files) == ("demo", Version("1.0"))


def test_two_versions_are_refused_naming_the_files(tmp_path: Path) -> None:
    files = [tmp_path / WHEEL, tmp_path / "demo-1.1.tar.gz"]
    with pytest.raises(PublishError, match="one project and one version") as caught:
        check_release(files)
    assert f"demo 1.0: {WHEEL}" in str(caught.value)
    assert "demo 1.1: demo-1.1.tar.gz" in str(caught.value)


def test_two_projects_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match=r"found 2: demo 1\.0: .*; other 1\.0: other-1\.0"):
        check_release([tmp_path / WHEEL, tmp_path / "other-1.0.tar.gz"])


def test_an_invalid_sdist_name_and_an_empty_set_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="not a valid sdist file name"):
        check_release([tmp_path / "demo.tar.gz"])
    with pytest.raises(PublishError):
        check_release([])


# --------------------------------------------------------------------------- target


def env_with_home(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), **extra}


def write_pypirc(tmp_path: Path, text: str) -> None:
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "home" / ".pypirc").write_text(text, encoding="utf-8")


def test_default_target_is_pypi(tmp_path: Path) -> None:
    target = resolve_target(make_config(tmp_path), env_with_home(tmp_path))
    assert target.upload_url == "https://upload.pypi.org/legacy/"
    assert target.simple_url == "https://pypi.org/simple/"
    assert target.is_pypi
    assert target.username is None


def test_token_from_the_environment(tmp_path: Path) -> None:
    token = "pypi-AgEIcHlwaS5vcmcCJGFiY2RlZg"
    env = env_with_home(tmp_path, TWINE_USERNAME="__token__", TWINE_PASSWORD=token,
                        TWINE_REPOSITORY="testpypi")
    target = resolve_target(make_config(tmp_path), env)
    assert target.upload_url == "https://test.pypi.org/legacy/"
    assert target.simple_url == "https://test.pypi.org/simple/"
    assert (target.username, target.password) == ("__token__", token)
    assert token not in repr(target)
    child = target.twine_env({"PATH": "/bin", "TWINE_REPOSITORY": "testpypi"})
    assert child == {"PATH": "/bin", "TWINE_USERNAME": "__token__", "TWINE_PASSWORD": token}
    assert token not in " ".join(target.twine_args())


def test_precedence_config_url_over_section_over_env(tmp_path: Path) -> None:
    write_pypirc(tmp_path, "[distutils]\nindex-servers = corp\n\n"
                           "[corp]\nrepository = https://corp.example/pypi/\n"
                           "username = ci\npassword = sekrit\n")
    env = env_with_home(tmp_path, TWINE_REPOSITORY_URL="https://env.example/",
                        TWINE_REPOSITORY="other")
    by_url = resolve_target(make_config(tmp_path, repository_url="https://cfg.example/up/",
                                        repository="corp"), env)
    assert by_url.upload_url == "https://cfg.example/up/"
    assert by_url.simple_url == "https://cfg.example/up/simple/"
    by_section = resolve_target(make_config(tmp_path, repository="corp"), env)
    assert by_section.upload_url == "https://corp.example/pypi/"
    assert (by_section.username, by_section.password) == ("ci", "sekrit")
    assert "sekrit" in by_section.secrets
    by_env = resolve_target(make_config(tmp_path), env)
    assert by_env.upload_url == "https://env.example/"
    assert by_env.origin == "TWINE_REPOSITORY_URL"
    assert by_env.username is None


def test_environment_credentials_beat_the_section(tmp_path: Path) -> None:
    write_pypirc(tmp_path, "[distutils]\nindex-servers = corp\n\n"
                           "[corp]\nrepository = https://corp.example/\nusername = ci\n"
                           "password = from-file\nca_cert = /etc/corp.pem\n")
    env = env_with_home(tmp_path, TWINE_PASSWORD="from-env")
    target = resolve_target(make_config(tmp_path, repository="corp"), env)
    assert (target.username, target.password) == ("ci", "from-env")
    assert set(target.secrets) == {"from-env", "from-file"}
    assert target.twine_args() == ["--repository-url", "https://corp.example/",
                                   "--cert", "/etc/corp.pem"]


def test_a_missing_section_is_an_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, repository="corp")
    with pytest.raises(PublishError, match=r"repository 'corp' .* does not exist"):
        resolve_target(config, env_with_home(tmp_path))
    write_pypirc(tmp_path, "[distutils]\nindex-servers = pypi\n")
    with pytest.raises(PublishError, match="Missing 'corp' section"):
        resolve_target(config, env_with_home(tmp_path))


def test_credentials_in_the_url_are_moved_out_of_it(tmp_path: Path) -> None:
    config = make_config(tmp_path, repository_url="https://bob:p%40ss@idx.example/legacy/")
    target = resolve_target(config, env_with_home(tmp_path))
    assert target.upload_url == "https://idx.example/legacy/"
    assert target.simple_url == "https://idx.example/simple/"
    assert (target.username, target.password) == ("bob", "p@ss")
    assert "p@ss" not in " ".join(target.twine_args())


def test_an_explicit_simple_url(tmp_path: Path) -> None:
    config = make_config(tmp_path, repository_url="https://devpi.example/alice/dev/")
    target = resolve_target(config, env_with_home(tmp_path),
                            simple_url="https://devpi.example/alice/dev/+simple")
    assert target.simple_url == "https://devpi.example/alice/dev/+simple/"


def test_a_non_http_url_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PublishError):
        resolve_target(make_config(tmp_path, repository_url="ftp://x.example/"),
                       env_with_home(tmp_path))


# --------------------------------------------------------------------------- redaction


def test_redactor_masks_secrets_urls_and_tokens() -> None:
    redact = Redactor(["s3cr3t/+", None, ""])
    assert redact("password s3cr3t/+ here") == "password ******** here"
    assert redact("encoded s3cr3t%2F%2B") == "encoded ********"
    assert redact("https://u:other@host/x") == "https://********@host/x"
    token = "pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAw"
    assert token not in redact(f"token {token}")
    assert redact("nothing to hide") == "nothing to hide"


@given(
    secret=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="*"),
                   min_size=1, max_size=30),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_redactor_never_leaves_the_secret(secret: str, before: str, after: str) -> None:
    assert secret not in Redactor([secret])(before + secret + after)


def test_report_is_read_not_written(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    wheel = touch(config.output_dir / WHEEL)
    report = RunReport(config.output_dir)
    record_tested(report, wheel)
    before = report.path.read_text()
    collect_files(config, read_record(RunReport(config.output_dir)))
    check_tested([wheel], read_record(RunReport(config.output_dir)))
    assert report.path.read_text() == before
    assert json.loads(before)["targets"]


# --------------------------------------------------------------------------- keyring


class FakeKeyring:
    """Stands in for the keyring module twine queries."""

    def __init__(self, username: str | None, password: str | None) -> None:
        self.username = username
        self.password = password
        self.asked: list[tuple[str, str | None]] = []

    def get_credential(self, system: str, username: str | None) -> object:
        self.asked.append((system, username))
        if self.username is None:
            return None
        return type("Credential", (), {"username": self.username})()

    def get_password(self, system: str, username: str) -> str | None:
        self.asked.append((system, username))
        return self.password


def test_keyring_credentials_are_looked_up_like_twine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twine import auth

    from manywheels.stages.publish._index import _keyring_credentials

    target = resolve_target(make_config(tmp_path, repository_url="https://corp.example/"),
                            env_with_home(tmp_path))
    fake = FakeKeyring("ci", "from-keyring")
    monkeypatch.setattr(auth, "keyring", fake)
    assert _keyring_credentials(target) == ("ci", "from-keyring")
    assert ("https://corp.example/", "ci") in fake.asked
    monkeypatch.setattr(auth, "keyring", FakeKeyring(None, None))
    assert _keyring_credentials(target) is None
