"""PEP 740 attestations for ``publish.attestations``: sign with ``pypi-attestations``,
upload with ``twine upload --attestations``.

Signing is keyless (Sigstore): it needs an *ambient* OIDC identity. On GitHub Actions a
job with ``permissions: id-token: write`` gets ``ACTIONS_ID_TOKEN_REQUEST_URL`` and
``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` (GitHub docs: "About security hardening with OpenID
Connect"); without them nothing is signed and nothing is uploaded. Each file is signed
with the pypi-attestations CLI (``python -m pypi_attestations sign FILE...``, which writes
``FILE.publish.attestation`` beside it); twine's ``--attestations`` uploads those with
the files (twine docs: ``twine upload``). The package is the optional extra
``manywheels[attest]``; only its command line is used.
"""

from __future__ import annotations

import importlib.util
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from manywheels.errors import PublishError

__all__ = [
    "OIDC_VARS",
    "TWINE_ATTESTATIONS_FLAG",
    "attestation_path",
    "check_attestations",
    "has_oidc_identity",
    "sign_all",
    "sign_command",
]

OIDC_VARS = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
"""The variables of GitHub Actions' ambient OIDC identity (``id-token: write``)."""

TWINE_ATTESTATIONS_FLAG = "--attestations"
"""twine upload's flag that uploads ``<file>.*.attestation`` with each file."""

_INSTALL = "pip install 'manywheels[attest]'"


def has_oidc_identity(env: Mapping[str, str]) -> bool:
    """True when ``env`` holds an ambient OIDC identity (both of :data:`OIDC_VARS`,
    non-empty)."""
    return all(env.get(name) for name in OIDC_VARS)


def check_attestations(env: Mapping[str, str], *, installed: bool | None = None) -> None:
    """Refuse attestations that cannot be made, before anything is uploaded.

    Args:
        env: the environment the signing runs in.
        installed: whether pypi-attestations is importable; default: looked up.

    Raises:
        PublishError: no ambient OIDC identity, or pypi-attestations is not installed.
    """
    if not has_oidc_identity(env):
        msg = ("publish.attestations: no ambient OIDC identity to sign with (GitHub Actions "
               f"sets {' and '.join(OIDC_VARS)} with `permissions: id-token: write`); "
               "nothing uploaded")
        raise PublishError(msg)
    if installed is None:
        installed = importlib.util.find_spec("pypi_attestations") is not None
    if not installed:
        msg = (f"publish.attestations: pypi-attestations is not installed ({_INSTALL}); "
               "nothing uploaded")
        raise PublishError(msg)


def sign_command(files: Sequence[Path], python: str = sys.executable) -> list[str]:
    """``python -m pypi_attestations sign FILE...`` (the pypi-attestations CLI)."""
    return [python, "-m", "pypi_attestations", "sign", *(str(path) for path in files)]


def attestation_path(path: Path) -> Path:
    """Where pypi-attestations writes the attestation of ``path``
    (``<file>.publish.attestation``)."""
    return path.with_name(path.name + ".publish.attestation")


def sign_all(files: Sequence[Path], *, env: Mapping[str, str],
             note: Callable[[str], None] | None = None) -> None:
    """Sign ``files`` (one pypi-attestations call); stale attestations are replaced.

    Args:
        files: the files to upload.
        env: the environment (the OIDC identity).
        note: a callable given the command line before it runs (the publish log).

    Raises:
        PublishError: the signing failed (its last output line), or wrote no attestation.
    """
    if not files:
        return
    for path in files:
        attestation_path(path).unlink(missing_ok=True)
    command = sign_command(files)
    if note is not None:
        note(shlex.join(["python", *command[1:]]))
    done = subprocess.run(command, env=dict(env), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        last = lines[-1].strip() if lines else "no output"
        msg = (f"publish.attestations: signing failed (exit {done.returncode}): {last}; "
               "nothing uploaded")
        raise PublishError(msg)
    unsigned = [path.name for path in files if not attestation_path(path).is_file()]
    if unsigned:
        msg = (f"publish.attestations: no attestation written for {', '.join(unsigned)}; "
               "nothing uploaded")
        raise PublishError(msg)
