"""``container-create-args``: extra options for creating the build containers, from an allowlist.

Written as ``docker create`` / ``docker run`` options (``--shm-size 1g --cpus 2``, or as
cibuildwheel writes them in ``container-engine``: ``"docker; create_args: --gpus all"``),
parsed here into :class:`CreateOptions`, which the engine maps onto its API
(:mod:`manywheels.engine._docker`). Only :data:`ALLOWED` options are accepted: resource
limits, GPUs, the network mode, capabilities and security options. The project tree is
copied, never mounted (no ``--volume``), and variables go through ``environment`` /
``environment-pass`` (no ``--env``), so that secrets stay masked.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from manywheels.errors import ConfigError

__all__ = ["ALLOWED", "CreateOptions", "parse_create_args"]

ALLOWED: tuple[str, ...] = (
    "--cpus", "--memory", "-m", "--memory-swap", "--shm-size", "--pids-limit", "--ulimit",
    "--gpus", "--network", "--cap-add", "--security-opt",
)
"""The ``docker create`` options ``container-create-args`` accepts."""

_SIZE = re.compile(r"^[0-9]+(\.[0-9]+)?[bkmg]?$", re.IGNORECASE)
_ULIMIT = re.compile(r"^([a-z]+)=(-?[0-9]+)(:(-?[0-9]+))?$")
_GPUS = re.compile(r"^(all|[0-9]+|(\"?device=[0-9A-Za-z,:-]+\"?))$")
_NETWORK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_ENGINES = ("docker", "podman")


@dataclass(frozen=True)
class CreateOptions:
    """What ``container-create-args`` asks of every build container.

    Attributes:
        cpus: CPUs (``--cpus 1.5``).
        memory: memory limit as docker writes it (``--memory 2g``: bytes with an
            optional ``b``/``k``/``m``/``g`` unit).
        memory_swap: memory plus swap limit (``--memory-swap``, same units).
        shm_size: size of ``/dev/shm`` (``--shm-size``, same units).
        pids_limit: process limit (``--pids-limit``; ``-1``: unlimited).
        ulimits: ``(name, soft, hard)`` per ``--ulimit name=soft[:hard]``.
        gpus: ``all``, a count, or ``device=0,1`` (``--gpus``).
        network: the network mode (``--network host``, ``none``, a network name).
        cap_add: capabilities added (``--cap-add SYS_PTRACE``).
        security_opt: security options (``--security-opt seccomp=unconfined``).
    """

    cpus: float | None = None
    memory: str | None = None
    memory_swap: str | None = None
    shm_size: str | None = None
    pids_limit: int | None = None
    ulimits: tuple[tuple[str, int, int], ...] = ()
    gpus: str | None = None
    network: str | None = None
    cap_add: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether nothing is asked (the engine's defaults)."""
        return self == CreateOptions()


def _words(value: str, where: str) -> list[str]:
    """The option words: cibuildwheel's ``"docker; create_args: ..."`` form (only its
    ``create_args`` matter; the engine is the one manywheels connects to), else the value."""
    head, sep, rest = value.partition(";")
    if sep or head.strip() in _ENGINES:
        if head.strip() not in _ENGINES:
            msg = (f"container-create-args ({where}): engine {head.strip()!r} in "
                   f"{value!r}; allowed are {', '.join(_ENGINES)}")
            raise ConfigError(msg)
        for part in rest.split(";"):
            name, _, text = part.partition(":")
            if name.strip() == "create_args":
                return _split(text, where)
        return []
    return _split(value, where)


def _split(text: str, where: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as error:
        msg = f"container-create-args ({where}): {text!r} is not shell words ({error})"
        raise ConfigError(msg) from None


def _bad(where: str, flag: str, value: str | None, what: str) -> ConfigError:
    shown = flag if value is None else f"{flag} {value}"
    return ConfigError(f"container-create-args ({where}): {shown!r}: {what}")


def parse_create_args(value: str, where: str = "default") -> CreateOptions:
    """Parse ``container-create-args`` (``--opt value`` or ``--opt=value`` words).

    Args:
        value: the option's text (shell words; cibuildwheel's ``container-engine`` form
            ``"docker; create_args: ..."`` is accepted too).
        where: the value's source, for messages.

    Raises:
        ConfigError: an option outside :data:`ALLOWED` (naming it and the allowed ones), a
            missing or malformed value (one line, naming it).
    """
    words = _words(value, where)
    fields: dict[str, object] = {}
    ulimits: list[tuple[str, int, int]] = []
    cap_add: list[str] = []
    security: list[str] = []
    index = 0
    while index < len(words):
        flag, eq, arg = words[index].partition("=")
        if flag not in ALLOWED:
            msg = (f"container-create-args ({where}): {words[index]!r} is not allowed; "
                   f"allowed are {', '.join(ALLOWED)} (variables: environment, files: the "
                   "project copy)")
            raise ConfigError(msg)
        if not eq:
            index += 1
            if index >= len(words):
                raise _bad(where, flag, None, "needs a value")
            arg = words[index]
        index += 1
        if flag in {"--memory", "-m", "--memory-swap", "--shm-size"}:
            if not _SIZE.match(arg):
                raise _bad(where, flag, arg, "allowed is a size such as 512m or 2g")
            key = {"-m": "memory", "--memory": "memory", "--memory-swap": "memory_swap",
                   "--shm-size": "shm_size"}[flag]
            fields[key] = arg.lower()
        elif flag == "--cpus":
            try:
                cpus = float(arg)
            except ValueError:
                cpus = 0.0
            if cpus <= 0:
                raise _bad(where, flag, arg, "allowed is a number of CPUs > 0 such as 1.5")
            fields["cpus"] = cpus
        elif flag == "--pids-limit":
            if not re.fullmatch(r"-?[0-9]+", arg):
                raise _bad(where, flag, arg, "allowed is a whole number (-1: unlimited)")
            fields["pids_limit"] = int(arg)
        elif flag == "--ulimit":
            match = _ULIMIT.match(arg)
            if not match:
                raise _bad(where, flag, arg, "allowed is name=soft[:hard], e.g. nofile=1024:2048")
            soft = int(match.group(2))
            ulimits.append((match.group(1), soft, int(match.group(4) or soft)))
        elif flag == "--gpus":
            if not _GPUS.match(arg):
                raise _bad(where, flag, arg, "allowed are all, a count or device=0,1")
            fields["gpus"] = arg.strip('"')
        elif flag == "--network":
            if not _NETWORK.match(arg):
                raise _bad(where, flag, arg, "allowed is a network mode or name (host, none)")
            fields["network"] = arg
        elif flag == "--cap-add":
            cap_add.append(arg)
        else:
            security.append(arg)
    return CreateOptions(ulimits=tuple(ulimits), cap_add=tuple(cap_add),
                         security_opt=tuple(security), **fields)  # type: ignore[arg-type]
