"""The container engine layer, on docker-py.

An :class:`Engine` is a connection to a Docker-compatible engine (Docker, or
Podman through its Docker API: ``DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock``).
A :class:`Container` is a long-lived container used as a context manager,
in the style of cibuildwheel's ``OCIContainer``: ``run`` streams a command's
output line by line and returns its exit code (docker-py's low-level
``exec_create``/``exec_start``/``exec_inspect``, since ``exec_run(stream=True)``
gives no exit code); ``copy_into`` and ``copy_out`` move trees as tar streams,
keeping file modes and never following a symlink that points outside the tree.

Containers are removed on normal exit, on error and on KeyboardInterrupt, and
carry the labels :data:`LABEL` and :data:`RUN_LABEL` so leftovers of a crashed
run can be found (:meth:`Engine.leftovers`).
"""

from __future__ import annotations

import io
import logging
import os
import posixpath
import ssl
import tarfile
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, Protocol

import docker
import docker.errors
from docker.models.containers import Container as DockerContainer

from manywheels._lock import owner_token
from manywheels._timing import command_timer
from manywheels.errors import CommandError, EngineUnavailableError, ImageNotFoundError

__all__ = [
    "CA_BUNDLE_PATH",
    "INDEX_VARIABLES",
    "LABEL",
    "OWNER_LABEL",
    "RUN_LABEL",
    "Container",
    "Engine",
    "ImageInfo",
    "Sink",
    "find_ca_bundle",
    "index_environment",
    "new_run_id",
]

LABEL = "io.manywheels"
"""Label set (to ``"1"``) on every container manywheels starts."""
RUN_LABEL = "io.manywheels.stages._run"
"""Label holding the run id, shared by every container of one run."""
OWNER_LABEL = "io.manywheels.owner"
"""Label naming the process that started the container (``host:pid:start-time``, see
:func:`manywheels._lock.owner_token`): a leftover whose owner is gone was left by a crash."""

CA_BUNDLE_PATH = "/etc/manywheels/ca-bundle.crt"
"""Where the host's CA bundle is placed in containers (read-only, mode 0444)."""

INDEX_VARIABLES = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_TRUSTED_HOST",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
)
"""Host variables passed into every container when set (package index access)."""

_CA_VARIABLES = ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE")

# docker-py's HTTP traffic is not the user's business (nox sets the root logger to DEBUG).
for _name in ("urllib3", "docker"):
    logging.getLogger(_name).setLevel(logging.WARNING)
_CONNECT_TIMEOUT = 15  # seconds, for the first ping

_START_HINT = (
    "start one (`sudo systemctl start docker`, or run `dockerd` in the background), "
    "or point DOCKER_HOST at a running engine (Podman: `systemctl --user start podman.socket` "
    "and DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock)"
)


class Sink(Protocol):
    """Receives a command's output, one line at a time (without the newline).

    ``stream`` is ``"stdout"`` or ``"stderr"``.
    """

    def __call__(self, line: str, stream: str) -> None: ...


def new_run_id() -> str:
    """A short random id naming one run (label value, log and report key)."""
    return uuid.uuid4().hex[:12]


def find_ca_bundle(env: Mapping[str, str] | None = None) -> Path | None:
    """The host's CA bundle: ``SSL_CERT_FILE``, ``PIP_CERT`` or ``REQUESTS_CA_BUNDLE``
    when set to a file, else the system default (``ssl.get_default_verify_paths()``),
    else ``None``."""
    env = os.environ if env is None else env
    for name in _CA_VARIABLES:
        value = env.get(name)
        if value and Path(value).is_file():
            return Path(value)
    paths = ssl.get_default_verify_paths()
    for candidate in (
        paths.cafile,
        paths.openssl_cafile,
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def index_environment(
    env: Mapping[str, str] | None = None, *, ca_bundle: bool = True
) -> dict[str, str]:
    """The variables every container gets for package index access.

    :data:`INDEX_VARIABLES` that are set on the host, plus ``SSL_CERT_FILE``,
    ``PIP_CERT`` and ``REQUESTS_CA_BUNDLE`` pointing at :data:`CA_BUNDLE_PATH`
    when ``ca_bundle`` is true. No other host variable is included.
    """
    env = os.environ if env is None else env
    result = {name: env[name] for name in INDEX_VARIABLES if env.get(name)}
    if ca_bundle:
        result.update(dict.fromkeys(_CA_VARIABLES, CA_BUNDLE_PATH))
    return result


@dataclass(frozen=True)
class ImageInfo:
    """An image present in the engine.

    Attributes:
        ref: the reference the user gave (``quay.io/pypa/manylinux_2_28_x86_64``).
        id: the image id (``sha256:…``).
        digest: the repository digest when the image came from a registry, else the id.
        env: the image's ``ENV`` settings (``AUDITWHEEL_PLAT`` among them).
    """

    ref: str
    id: str
    digest: str
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def plat(self) -> str | None:
        """The image's ``AUDITWHEEL_PLAT`` policy, if it sets one."""
        return self.env.get("AUDITWHEEL_PLAT")


def _describe_host(env: Mapping[str, str]) -> str:
    return env.get("DOCKER_HOST") or "the default socket (unix:///var/run/docker.sock)"


def _context_host(env: Mapping[str, str]) -> str | None:
    """The selected docker context's endpoint, when DOCKER_HOST is unset and a
    non-default context is selected (``DOCKER_CONTEXT=NAME``, else
    ``docker context use NAME``), as the docker CLI does."""
    if env.get("DOCKER_HOST"):
        return None
    try:
        from docker.context import ContextAPI  # noqa: PLC0415

        name = env.get("DOCKER_CONTEXT")
        context = ContextAPI.get_context(name) if name else ContextAPI.get_current_context()
    except Exception:  # noqa: BLE001 - a broken context file falls back to the default
        return None
    if context is None or context.name == "default":
        return None
    host = context.Host
    return str(host) if host else None


class Engine:
    """A connection to a Docker-compatible container engine.

    Use :meth:`connect` to create one; it fails fast with one clear message when no
    engine answers.
    """

    def __init__(self, client: docker.DockerClient, host: str) -> None:
        self.client = client
        self.host = host
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, env: Mapping[str, str] | None = None) -> Engine:
        """Connect to the engine named by ``DOCKER_HOST`` (or the docker context, or the
        default socket) and check that it answers.

        Args:
            env: environment to read ``DOCKER_HOST``/``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``
                from; default ``os.environ``.

        Raises:
            EngineUnavailableError: no socket, nothing listening, wrong DOCKER_HOST, or
                permission denied; the message says how to start or reach an engine.
        """
        env = dict(os.environ if env is None else env)
        context_host = _context_host(env)
        if context_host:
            env["DOCKER_HOST"] = context_host
        where = _describe_host(env)
        try:
            client = docker.DockerClient.from_env(
                environment=env, timeout=_CONNECT_TIMEOUT, max_pool_size=32
            )
            client.ping()
        except docker.errors.DockerException as error:
            raise EngineUnavailableError(_engine_message(where, error)) from None
        except Exception as error:  # noqa: BLE001 - requests/urllib3/OSError variants
            raise EngineUnavailableError(_engine_message(where, error)) from None
        # Long silent build steps must not time out the output stream.
        client.api.timeout = None  # type: ignore[assignment]
        return cls(client, where)

    # ------------------------------------------------------------------ images

    def image(
        self, ref: str, *, pull: bool = True, progress: Callable[[str], None] | None = None
    ) -> ImageInfo:
        """Return the image ``ref``, pulling it only when it is absent locally.

        Args:
            ref: image reference.
            pull: pull an absent image (with a progress line per finished layer).
            progress: receives progress lines; default: discard.

        Raises:
            ImageNotFoundError: the image is absent and cannot be pulled.
        """
        with self._lock:
            try:
                image = self.client.images.get(ref)
            except docker.errors.ImageNotFound:
                if not pull:
                    msg = f"image {ref!r} is not present locally (pulling disabled)"
                    raise ImageNotFoundError(msg) from None
                image = self._pull(ref, progress or (lambda _line: None))
            except docker.errors.APIError as error:
                msg = f"image {ref!r} cannot be inspected: {_short(error)}"
                raise ImageNotFoundError(msg) from None
        attrs: dict[str, Any] = image.attrs
        env_list = (attrs.get("Config") or {}).get("Env") or []
        image_env = dict(item.split("=", 1) for item in env_list if "=" in item)
        digests = attrs.get("RepoDigests") or []
        return ImageInfo(ref=ref, id=str(image.id), digest=digests[0] if digests else str(image.id),
                         env=image_env)

    def _pull(self, ref: str, progress: Callable[[str], None]) -> Any:
        repository, tag = _split_ref(ref)
        progress(f"pulling {ref} ...")
        started = time.monotonic()
        layers_done = 0
        try:
            for event in self.client.api.pull(repository, tag=tag, stream=True, decode=True):
                if isinstance(event, dict) and event.get("error"):
                    msg = (
                        f"image {ref!r} is not present locally and could not be pulled: "
                        f"{event['error']}"
                    )
                    raise ImageNotFoundError(msg)
                if isinstance(event, dict) and event.get("status") == "Pull complete":
                    layers_done += 1
                    progress(f"pulling {ref}: {layers_done} layer(s) done")
            image = self.client.images.get(ref)
        except docker.errors.DockerException as error:
            msg = f"image {ref!r} is not present locally and could not be pulled: {_short(error)}"
            raise ImageNotFoundError(msg) from None
        progress(f"pulled {ref} in {time.monotonic() - started:.1f} s")
        return image

    # ------------------------------------------------------------------ containers

    def container(self, image: str, **kwargs: Any) -> Container:
        """A :class:`Container` on this engine (see its arguments)."""
        return Container(self, image, **kwargs)

    def leftovers(self, run_id: str | None = None) -> list[DockerContainer]:
        """Containers carrying the manywheels label (of one run, when given), running or not."""
        label = f"{RUN_LABEL}={run_id}" if run_id else f"{LABEL}=1"
        result: list[DockerContainer] = self.client.containers.list(
            all=True, filters={"label": label}
        )
        return result

    def close(self) -> None:
        """Close the connection."""
        self.client.close()


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = text[-1] if text else type(error).__name__
    explanation = getattr(error, "explanation", None)
    if explanation:
        line = str(explanation).strip().splitlines()[-1]
    return line[:300]


def _engine_message(where: str, error: BaseException) -> str:
    reason = _short(error)
    lowered = reason.lower()
    if "permission denied" in lowered:
        return (
            f"permission denied on the container engine socket at {where}: add your user to "
            "the 'docker' group (`sudo usermod -aG docker $USER`, then log in again), run as "
            "root, or use rootless Podman via DOCKER_HOST"
        )
    if "no such file" in lowered or "filenotfounderror" in lowered:
        reason = "no socket there"
    elif "connection refused" in lowered or "connectionrefused" in lowered:
        reason = "nothing is listening there"
    return f"no container engine answers at {where} ({reason}): {_START_HINT}"


def _split_ref(ref: str) -> tuple[str, str | None]:
    if "@" in ref:
        return ref, None
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = ref.rsplit(":", 1)
        return repository, tag
    return ref, "latest"


class _LineSplitter:
    """Turns a byte stream into lines; keeps the last ``tail`` lines."""

    def __init__(self, stream: str, sink: Sink | None, tail: deque[str]) -> None:
        self.stream = stream
        self.sink = sink
        self.tail = tail
        self.buffer = b""

    def feed(self, data: bytes) -> None:
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        for raw in lines:
            self._emit(raw)

    def close(self) -> None:
        if self.buffer:
            self._emit(self.buffer)
            self.buffer = b""

    def _emit(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        self.tail.append(line)
        if self.sink is not None:
            self.sink(line, self.stream)


class Container:
    """A long-lived container; a context manager.

    Args:
        engine: the engine to run it on.
        image: image reference; must be present (see :meth:`Engine.image`).
        env: variables set for every command (the caller decides the allowlist; see
            :func:`index_environment`).
        ca_bundle: host CA bundle placed at :data:`CA_BUNDLE_PATH` (read-only) after start,
            for package index access through TLS-intercepting proxies; ``None`` for none.
        run_id: the run this container belongs to (label :data:`RUN_LABEL`).
        labels: extra labels.
        volumes: host path or named volume -> container path, mounted read-write.
        name: container name; default ``manywheels-<run_id>-<random>``.

    The container runs ``tail -f /dev/null`` under the image's entrypoint (so
    manylinux's ``linux32`` entrypoint still applies) and is removed with
    ``force=True`` on exit, whatever the exit reason.
    """

    def __init__(
        self,
        engine: Engine,
        image: str,
        *,
        env: Mapping[str, str] | None = None,
        ca_bundle: Path | None = None,
        run_id: str | None = None,
        labels: Mapping[str, str] | None = None,
        volumes: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> None:
        self.engine = engine
        self.image = image
        self.env = dict(env or {})
        self.ca_bundle = ca_bundle
        self.run_id = run_id or new_run_id()
        self.labels = {LABEL: "1", RUN_LABEL: self.run_id, OWNER_LABEL: owner_token(),
                       **(labels or {})}
        self.volumes = dict(volumes or {})
        self.name = name or f"manywheels-{self.run_id}-{uuid.uuid4().hex[:6]}"
        self._container: DockerContainer | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def id(self) -> str:
        """The container id (after start)."""
        if self._container is None:
            msg = "container not started"
            raise RuntimeError(msg)
        return str(self._container.id)

    def __enter__(self) -> Container:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    def start(self) -> None:
        """Create and start the container (idempotent)."""
        if self._container is not None:
            return
        mounts = {source: {"bind": target, "mode": "rw"} for source, target in self.volumes.items()}
        try:
            container = self.engine.client.containers.create(
                self.image,
                command=["tail", "-f", "/dev/null"],
                name=self.name,
                labels=self.labels,
                environment=self.env,
                volumes=mounts,
                detach=True,
                stdin_open=False,
                tty=False,
            )
            self._container = container
            container.start()
        except docker.errors.ImageNotFound:
            self.remove()
            msg = f"image {self.image!r} is not present locally"
            raise ImageNotFoundError(msg) from None
        except BaseException:
            self.remove()
            raise
        if self.ca_bundle is not None:
            self.copy_into(self.ca_bundle, CA_BUNDLE_PATH, mode=0o444)

    def remove(self) -> None:
        """Remove the container (force), ignoring one that is already gone."""
        container, self._container = self._container, None
        if container is None:
            return
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            if "is already in progress" not in str(error):
                raise

    # ------------------------------------------------------------------ commands

    def run(
        self,
        command: Sequence[str] | str,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        sink: Sink | None = None,
        check: bool = True,
        tail_lines: int = 50,
    ) -> int:
        """Run a command and stream its output.

        Args:
            command: an argv list, or a shell script string run with ``bash -c``.
            env: extra variables for this command only.
            cwd: working directory in the container (default: the image's).
            sink: receives each output line as it arrives.
            check: raise on a non-zero exit code.
            tail_lines: how many last lines :class:`CommandError` keeps.

        Returns:
            The exit code.

        Raises:
            CommandError: ``check`` is true and the command exited non-zero; carries
                the command, the code and the last output lines.
        """
        argv = ["bash", "-c", command] if isinstance(command, str) else list(command)
        api = self.engine.client.api
        exec_id = api.exec_create(
            self.id,
            argv,
            stdout=True,
            stderr=True,
            environment=dict(env or {}),
            workdir=cwd,
        )["Id"]
        tail: deque[str] = deque(maxlen=tail_lines)
        out = _LineSplitter("stdout", sink, tail)
        err = _LineSplitter("stderr", sink, tail)
        with command_timer():  # the command's own time (manywheels._timing)
            for stdout, stderr in api.exec_start(exec_id, stream=True, demux=True):
                if stdout:
                    out.feed(stdout)
                if stderr:
                    err.feed(stderr)
        out.close()
        err.close()
        code = api.exec_inspect(exec_id).get("ExitCode")
        returncode = int(code) if code is not None else -1
        if check and returncode != 0:
            raise CommandError(command if isinstance(command, str) else argv, returncode, tail)
        return returncode

    def output(self, command: Sequence[str] | str, **kwargs: Any) -> str:
        """Run a command (checked) and return its stdout as text."""
        lines: list[str] = []

        def collect(line: str, stream: str) -> None:
            if stream == "stdout":
                lines.append(line)

        self.run(command, sink=collect, **kwargs)
        return "\n".join(lines)

    # ------------------------------------------------------------------ files

    def copy_into(
        self,
        src: Path,
        dest: str,
        *,
        exclude: Callable[[Path], bool] | None = None,
        mode: int | None = None,
    ) -> list[Path]:
        """Copy a host file or directory to ``dest`` in the container.

        File modes are kept. Symbolic links are copied as links when they point inside
        the tree and skipped when they point outside it (never followed).

        Args:
            src: host file or directory.
            dest: absolute container path the file or directory will have.
            exclude: predicate on host paths under ``src``; true skips the path (and,
                for a directory, everything below it).
            mode: override the mode of a single copied file (e.g. ``0o444``).

        Returns:
            The symlinks that were skipped because they point outside ``src``.
        """
        dest_path = PurePosixPath(dest)
        if not dest_path.is_absolute():
            msg = f"container path must be absolute: {dest!r}"
            raise ValueError(msg)
        root = src.resolve() if not src.is_symlink() else src.parent.resolve() / src.name
        skipped: list[Path] = []

        def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
            relative = PurePosixPath(info.name).relative_to(arcname)
            host = root / relative if relative.parts else root
            if exclude is not None and relative.parts and exclude(host):
                return None
            if info.issym() and src.is_dir():
                target = (host.parent / info.linkname).resolve()
                if target != root and root not in target.parents:
                    skipped.append(host)
                    return None
            if mode is not None and info.isfile():
                info.mode = mode
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            return info

        # Members carry the whole path below /: the engine creates missing parent
        # directories itself, which saves a `mkdir -p` round trip per copy.
        arcname = str(dest_path.relative_to("/"))
        with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as buffer:
            with tarfile.open(fileobj=buffer, mode="w") as archive:
                archive.add(str(root), arcname=arcname, recursive=True, filter=keep)
            buffer.seek(0)
            try:
                ok = self.engine.client.api.put_archive(self.id, "/", buffer)
            except docker.errors.APIError:
                ok = False
            if not ok:  # an engine that wants the parent to exist
                self.run(["mkdir", "-p", str(dest_path.parent)])
                buffer.seek(0)
                ok = self.engine.client.api.put_archive(self.id, "/", buffer)
        if not ok:
            msg = f"copy of {src} into the container at {dest} failed"
            raise OSError(msg)
        return skipped

    def copy_out(self, src: str, dest: Path) -> None:
        """Copy a container file or directory to the host path ``dest``.

        The copy is written under a temporary name beside ``dest`` and renamed into
        place, so ``dest`` never exists half-written. An existing ``dest`` file is
        replaced; an existing directory is merged into. Members that would land outside
        ``dest`` (absolute paths, ``..``, links pointing outside) are skipped.
        """
        stream, _stat = self.engine.client.api.get_archive(self.id, src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.tmp-") as tmp:
            with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as buffer:
                for chunk in stream:
                    buffer.write(chunk)
                buffer.seek(0)
                with tarfile.open(fileobj=buffer, mode="r") as archive:
                    _safe_extract(archive, Path(tmp))
            extracted = Path(tmp) / posixpath.basename(src.rstrip("/"))
            if extracted.is_dir() and dest.is_dir():
                for child in extracted.iterdir():
                    target = dest / child.name
                    if target.is_dir() and not target.is_symlink() and child.is_dir():
                        _merge_dirs(child, target)
                    else:
                        os.replace(child, target)
            else:
                os.replace(extracted, dest)

    def write_text(self, path: str, text: str, *, mode: int = 0o644) -> None:
        """Write ``text`` to the container file ``path`` (parents created)."""
        data = text.encode()
        info = tarfile.TarInfo(posixpath.basename(path))
        info.size = len(data)
        info.mode = mode
        info.mtime = int(time.time())
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            archive.addfile(info, io.BytesIO(data))
        parent = posixpath.dirname(path) or "/"
        self.run(["mkdir", "-p", parent])
        self.engine.client.api.put_archive(self.id, parent, buffer.getvalue())

    def read_text(self, path: str) -> str:
        """The text of a container file."""
        return self.output(["cat", path])

    def commit(
        self, repository: str, tag: str, *, conf: Mapping[str, Any] | None = None,
        message: str | None = None,
    ) -> str:
        """Commit the container's file system as the image ``repository:tag``.

        Args:
            repository: image repository, e.g. ``manywheels-before-all``.
            tag: image tag.
            conf: image configuration overriding the container's (``Env``, ``Cmd``,
                ``Labels``, ...; fields left out are taken from the container).
            message: commit message.

        Returns:
            The new image id.

        Raises:
            docker.errors.APIError: the engine refused.
        """
        if self._container is None:
            msg = "container not started"
            raise RuntimeError(msg)
        image = self._container.commit(repository=repository, tag=tag, message=message,
                                       conf=dict(conf) if conf is not None else None)
        return str(image.id)

    def __repr__(self) -> str:
        return f"Container(image={self.image!r}, name={self.name!r})"


def _merge_dirs(src: Path, dest: Path) -> None:
    for child in src.iterdir():
        target = dest / child.name
        if child.is_dir() and target.is_dir() and not target.is_symlink():
            _merge_dirs(child, target)
        else:
            os.replace(child, target)


def _safe_extract(archive: tarfile.TarFile, dest: Path) -> None:
    """Extract with tarfile's ``data`` filter, skipping (not failing on) members that
    would land outside ``dest`` or link outside it; file modes are kept."""
    data_filter = getattr(tarfile, "data_filter", None)
    for member in archive.getmembers():
        if data_filter is not None:
            try:
                checked = data_filter(member, str(dest))
            except tarfile.FilterError:
                continue
            # data_filter clears group/other write and executable bits only for
            # non-executables; keep the original mode bits (minus setuid/setgid).
            if checked.isfile() or checked.isdir():
                checked = checked.replace(mode=member.mode & 0o777, deep=False)
            archive.extract(checked, str(dest), filter="fully_trusted")
        else:  # pragma: no cover - Python < 3.10.12
            name = PurePosixPath(member.name)
            if name.is_absolute() or ".." in name.parts or member.islnk() or member.isdev():
                continue
            if member.issym():
                target = (dest / name.parent / member.linkname).resolve()
                if dest.resolve() not in target.parents:
                    continue
            archive.extract(member, str(dest))

