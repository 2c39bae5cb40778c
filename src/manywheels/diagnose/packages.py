"""Which system package provides a missing header, library or pkg-config module.

Package names differ between the image families: RPM (``yum`` on manylinux2014,
``dnf`` on manylinux_2_28 and manylinux_2_34), Alpine (``apk`` on musllinux) and
Debian/Ubuntu (``apt-get``). :func:`likely_package` knows the common C libraries
Python extensions need and otherwise guesses the distributions' naming convention
(``foo-devel`` / ``foo-dev`` / ``libfoo-dev``), saying so.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "PACKAGE_MANAGERS",
    "PackageGuess",
    "family",
    "install_command",
    "likely_package",
    "package_manager_from_env",
    "search_command",
]

PACKAGE_MANAGERS = ("dnf", "yum", "apk", "apt-get")
"""The package managers diagnosis knows, in the order they are looked for."""

# (rpm, apk, deb) names.
_Names = tuple[str, str, str]

_LIBRARIES: dict[str, _Names] = {
    "yaml": ("libyaml-devel", "yaml-dev", "libyaml-dev"),
    "z": ("zlib-devel", "zlib-dev", "zlib1g-dev"),
    "ssl": ("openssl-devel", "openssl-dev", "libssl-dev"),
    "crypto": ("openssl-devel", "openssl-dev", "libssl-dev"),
    "ffi": ("libffi-devel", "libffi-dev", "libffi-dev"),
    "bz2": ("bzip2-devel", "bzip2-dev", "libbz2-dev"),
    "lzma": ("xz-devel", "xz-dev", "liblzma-dev"),
    "sqlite3": ("sqlite-devel", "sqlite-dev", "libsqlite3-dev"),
    "xml2": ("libxml2-devel", "libxml2-dev", "libxml2-dev"),
    "xslt": ("libxslt-devel", "libxslt-dev", "libxslt1-dev"),
    "exslt": ("libxslt-devel", "libxslt-dev", "libxslt1-dev"),
    "jpeg": ("libjpeg-turbo-devel", "libjpeg-turbo-dev", "libjpeg-dev"),
    "png": ("libpng-devel", "libpng-dev", "libpng-dev"),
    "png16": ("libpng-devel", "libpng-dev", "libpng-dev"),
    "tiff": ("libtiff-devel", "tiff-dev", "libtiff-dev"),
    "webp": ("libwebp-devel", "libwebp-dev", "libwebp-dev"),
    "freetype": ("freetype-devel", "freetype-dev", "libfreetype-dev"),
    "curl": ("libcurl-devel", "curl-dev", "libcurl4-openssl-dev"),
    "pq": ("libpq-devel", "libpq-dev", "libpq-dev"),
    "mariadb": ("mariadb-connector-c-devel", "mariadb-connector-c-dev", "libmariadb-dev"),
    "mysqlclient": ("mariadb-connector-c-devel", "mariadb-connector-c-dev", "libmariadb-dev"),
    "gmp": ("gmp-devel", "gmp-dev", "libgmp-dev"),
    "mpfr": ("mpfr-devel", "mpfr-dev", "libmpfr-dev"),
    "mpc": ("libmpc-devel", "mpc1-dev", "libmpc-dev"),
    "hdf5": ("hdf5-devel", "hdf5-dev", "libhdf5-dev"),
    "netcdf": ("netcdf-devel", "netcdf-dev", "libnetcdf-dev"),
    "fftw3": ("fftw-devel", "fftw-dev", "libfftw3-dev"),
    "openblas": ("openblas-devel", "openblas-dev", "libopenblas-dev"),
    "blas": ("openblas-devel", "openblas-dev", "libopenblas-dev"),
    "cblas": ("openblas-devel", "openblas-dev", "libopenblas-dev"),
    "lapack": ("lapack-devel", "lapack-dev", "liblapack-dev"),
    "lapacke": ("lapack-devel", "lapack-dev", "liblapacke-dev"),
    "uv": ("libuv-devel", "libuv-dev", "libuv1-dev"),
    "zstd": ("libzstd-devel", "zstd-dev", "libzstd-dev"),
    "lz4": ("lz4-devel", "lz4-dev", "liblz4-dev"),
    "snappy": ("snappy-devel", "snappy-dev", "libsnappy-dev"),
    "brotlienc": ("brotli-devel", "brotli-dev", "libbrotli-dev"),
    "brotlidec": ("brotli-devel", "brotli-dev", "libbrotli-dev"),
    "readline": ("readline-devel", "readline-dev", "libreadline-dev"),
    "ncurses": ("ncurses-devel", "ncurses-dev", "libncurses-dev"),
    "ncursesw": ("ncurses-devel", "ncurses-dev", "libncurses-dev"),
    "expat": ("expat-devel", "expat-dev", "libexpat1-dev"),
    "gdbm": ("gdbm-devel", "gdbm-dev", "libgdbm-dev"),
    "krb5": ("krb5-devel", "krb5-dev", "libkrb5-dev"),
    "gssapi_krb5": ("krb5-devel", "krb5-dev", "libkrb5-dev"),
    "ldap": ("openldap-devel", "openldap-dev", "libldap2-dev"),
    "sasl2": ("cyrus-sasl-devel", "cyrus-sasl-dev", "libsasl2-dev"),
    "pcre": ("pcre-devel", "pcre-dev", "libpcre3-dev"),
    "pcre2-8": ("pcre2-devel", "pcre2-dev", "libpcre2-dev"),
    "usb-1.0": ("libusbx-devel", "libusb-dev", "libusb-1.0-0-dev"),
    "udev": ("systemd-devel", "eudev-dev", "libudev-dev"),
    "systemd": ("systemd-devel", "elogind-dev", "libsystemd-dev"),
    "glib-2.0": ("glib2-devel", "glib-dev", "libglib2.0-dev"),
    "cairo": ("cairo-devel", "cairo-dev", "libcairo2-dev"),
    "portaudio": ("portaudio-devel", "portaudio-dev", "portaudio19-dev"),
    "sndfile": ("libsndfile-devel", "libsndfile-dev", "libsndfile1-dev"),
    "geos_c": ("geos-devel", "geos-dev", "libgeos-dev"),
    "proj": ("proj-devel", "proj-dev", "libproj-dev"),
    "gdal": ("gdal-devel", "gdal-dev", "libgdal-dev"),
    "sodium": ("libsodium-devel", "libsodium-dev", "libsodium-dev"),
    "zmq": ("zeromq-devel", "zeromq-dev", "libzmq3-dev"),
    "event": ("libevent-devel", "libevent-dev", "libevent-dev"),
    "ev": ("libev-devel", "libev-dev", "libev-dev"),
    "icuuc": ("libicu-devel", "icu-dev", "libicu-dev"),
    "X11": ("libX11-devel", "libx11-dev", "libx11-dev"),
    "GL": ("mesa-libGL-devel", "mesa-dev", "libgl-dev"),
    "gsl": ("gsl-devel", "gsl-dev", "libgsl-dev"),
    "magic": ("file-devel", "file-dev", "libmagic-dev"),
    "archive": ("libarchive-devel", "libarchive-dev", "libarchive-dev"),
    "cap": ("libcap-devel", "libcap-dev", "libcap-dev"),
    "acl": ("libacl-devel", "acl-dev", "libacl1-dev"),
    "attr": ("libattr-devel", "attr-dev", "libattr1-dev"),
    "boost_python": ("boost-devel", "boost-dev", "libboost-python-dev"),
    "tbb": ("tbb-devel", "onetbb-dev", "libtbb-dev"),
    "secp256k1": ("libsecp256k1-devel", "libsecp256k1-dev", "libsecp256k1-dev"),
}

# Header (as written in #include) -> key of _LIBRARIES (or a direct name triple).
_HEADERS: dict[str, str | _Names] = {
    "yaml.h": "yaml",
    "zlib.h": "z",
    "zconf.h": "z",
    "openssl/": "ssl",
    "ffi.h": "ffi",
    "bzlib.h": "bz2",
    "lzma.h": "lzma",
    "sqlite3.h": "sqlite3",
    "libxml/": "xml2",
    "libxslt/": "xslt",
    "libexslt/": "exslt",
    "jpeglib.h": "jpeg",
    "png.h": "png",
    "tiff.h": "tiff",
    "tiffio.h": "tiff",
    "webp/": "webp",
    "ft2build.h": "freetype",
    "freetype/": "freetype",
    "curl/": "curl",
    "libpq-fe.h": "pq",
    "pg_config.h": "pq",
    "mysql.h": "mariadb",
    "mysql/": "mariadb",
    "mariadb/": "mariadb",
    "gmp.h": "gmp",
    "mpfr.h": "mpfr",
    "mpc.h": "mpc",
    "hdf5.h": "hdf5",
    "H5Cpp.h": "hdf5",
    "netcdf.h": "netcdf",
    "fftw3.h": "fftw3",
    "cblas.h": "cblas",
    "lapacke.h": "lapacke",
    "uv.h": "uv",
    "zstd.h": "zstd",
    "lz4.h": "lz4",
    "snappy-c.h": "snappy",
    "snappy.h": "snappy",
    "brotli/": "brotlienc",
    "readline/": "readline",
    "ncurses.h": "ncurses",
    "curses.h": "ncurses",
    "expat.h": "expat",
    "gdbm.h": "gdbm",
    "krb5.h": "krb5",
    "gssapi/": "gssapi_krb5",
    "ldap.h": "ldap",
    "lber.h": "ldap",
    "sasl/": "sasl2",
    "pcre.h": "pcre",
    "pcre2.h": "pcre2-8",
    "libusb-1.0/": "usb-1.0",
    "libudev.h": "udev",
    "systemd/": "systemd",
    "glib.h": "glib-2.0",
    "cairo.h": "cairo",
    "cairo/": "cairo",
    "portaudio.h": "portaudio",
    "sndfile.h": "sndfile",
    "geos_c.h": "geos_c",
    "proj.h": "proj",
    "gdal.h": "gdal",
    "sodium.h": "sodium",
    "zmq.h": "zmq",
    "event2/": "event",
    "ev.h": "ev",
    "unicode/": "icuuc",
    "X11/": "X11",
    "GL/": "GL",
    "gsl/": "gsl",
    "magic.h": "magic",
    "archive.h": "archive",
    "sys/capability.h": "cap",
    "acl/": "acl",
    "attr/": "attr",
    "boost/": ("boost-devel", "boost-dev", "libboost-dev"),
    "Eigen/": ("eigen3-devel", "eigen", "libeigen3-dev"),
    "eigen3/": ("eigen3-devel", "eigen", "libeigen3-dev"),
    "tbb/": "tbb",
    "secp256k1.h": "secp256k1",
}

# pkg-config module -> key of _LIBRARIES.
_PKG_CONFIG: dict[str, str] = {
    "yaml-0.1": "yaml",
    "zlib": "z",
    "openssl": "ssl",
    "libssl": "ssl",
    "libcrypto": "crypto",
    "libffi": "ffi",
    "bzip2": "bz2",
    "liblzma": "lzma",
    "sqlite3": "sqlite3",
    "libxml-2.0": "xml2",
    "libxslt": "xslt",
    "libexslt": "exslt",
    "libjpeg": "jpeg",
    "libpng": "png",
    "libpng16": "png16",
    "libtiff-4": "tiff",
    "libwebp": "webp",
    "freetype2": "freetype",
    "libcurl": "curl",
    "libpq": "pq",
    "gmp": "gmp",
    "hdf5": "hdf5",
    "fftw3": "fftw3",
    "openblas": "openblas",
    "blas": "blas",
    "lapack": "lapack",
    "libuv": "uv",
    "libzstd": "zstd",
    "liblz4": "lz4",
    "readline": "readline",
    "ncursesw": "ncursesw",
    "expat": "expat",
    "krb5": "krb5",
    "libpcre2-8": "pcre2-8",
    "libusb-1.0": "usb-1.0",
    "libudev": "udev",
    "libsystemd": "systemd",
    "glib-2.0": "glib-2.0",
    "cairo": "cairo",
    "portaudio-2.0": "portaudio",
    "sndfile": "sndfile",
    "geos": "geos_c",
    "proj": "proj",
    "gdal": "gdal",
    "libsodium": "sodium",
    "libzmq": "zmq",
    "libevent": "event",
    "icu-uc": "icuuc",
    "x11": "X11",
    "gl": "GL",
    "gsl": "gsl",
    "libarchive": "archive",
    "libcap": "cap",
    "tbb": "tbb",
}

_FAMILY = {"dnf": 0, "yum": 0, "apk": 1, "apt-get": 2}


@dataclass(frozen=True)
class PackageGuess:
    """The package that likely provides something.

    Attributes:
        name: the package name for the image's package manager.
        known: ``True`` when it comes from the table of common libraries, ``False``
            when it is guessed from the naming convention (the fix then also says how
            to search).
    """

    name: str
    known: bool


def family(manager: str) -> str:
    """``rpm``, ``apk`` or ``deb`` for a package manager name.

    Raises:
        ValueError: an unknown package manager.
    """
    if manager not in _FAMILY:
        msg = f"unknown package manager {manager!r}; known are {', '.join(PACKAGE_MANAGERS)}"
        raise ValueError(msg)
    return ("rpm", "apk", "deb")[_FAMILY[manager]]


def package_manager_from_env(env: Mapping[str, str]) -> str | None:
    """The package manager an image most likely has, from its ``AUDITWHEEL_*`` ENV.

    ``manylinux2014`` / ``manylinux_2_17`` -> ``yum``; ``manylinux_2_28`` and later
    manylinux images (AlmaLinux) -> ``dnf``; ``musllinux`` -> ``apk``;
    ``manylinux_2_24`` (Debian 9) -> ``apt-get``. ``None`` when the image sets no
    policy. The image itself is the better source (``command -v`` in a container);
    this is the fallback.
    """
    policy = env.get("AUDITWHEEL_POLICY") or env.get("AUDITWHEEL_PLAT") or ""
    if not policy:
        return None
    if policy.startswith("musllinux"):
        return "apk"
    if policy.startswith(("manylinux2014", "manylinux2010", "manylinux1")):
        return "yum"
    match = re.match(r"manylinux_(\d+)_(\d+)", policy)
    if not match:
        return None
    glibc = (int(match[1]), int(match[2]))
    if glibc <= (2, 17):
        return "yum"
    if glibc == (2, 24):
        return "apt-get"
    return "dnf"


def _from_triple(names: _Names, manager: str) -> str:
    return names[_FAMILY[manager]]


def _guess(stem: str, manager: str) -> str:
    stem = stem.removeprefix("lib")
    fam = family(manager)
    if fam == "rpm":
        return f"{stem}-devel"
    if fam == "apk":
        return f"{stem}-dev"
    return f"lib{stem}-dev"


def likely_package(kind: str, name: str, manager: str) -> PackageGuess:
    """The package likely to provide a missing header, library or pkg-config module.

    Args:
        kind: ``header`` (as in ``#include <openssl/ssl.h>``: ``openssl/ssl.h``),
            ``library`` (``-lfoo``: ``foo``) or ``pkg-config`` (``yaml-0.1``).
        name: what is missing.
        manager: ``dnf``, ``yum``, ``apk`` or ``apt-get``.

    Returns:
        The package name and whether it is known or guessed.

    Raises:
        ValueError: unknown ``kind`` or ``manager``.
    """
    family(manager)
    entry: str | _Names | None = None
    if kind == "header":
        entry = _HEADERS.get(name)
        if entry is None:
            for prefix, value in _HEADERS.items():
                if prefix.endswith("/") and name.startswith(prefix):
                    entry = value
                    break
        stem = re.split(r"[/.]", name, maxsplit=1)[0]
    elif kind == "library":
        entry = name if name in _LIBRARIES else None
        stem = name
    elif kind == "pkg-config":
        entry = _PKG_CONFIG.get(name)
        stem = re.sub(r"[-.]?\d[\d.]*$", "", name)
    else:
        msg = f"unknown kind {kind!r}; expected header, library or pkg-config"
        raise ValueError(msg)
    if isinstance(entry, tuple):
        return PackageGuess(_from_triple(entry, manager), known=True)
    if isinstance(entry, str):
        return PackageGuess(_from_triple(_LIBRARIES[entry], manager), known=True)
    return PackageGuess(_guess(stem, manager), known=False)


def install_command(manager: str, packages: list[str]) -> str:
    """The non-interactive install command for ``before-all``.

    ``dnf install -y ...``, ``yum install -y ...``, ``apk add --no-cache ...``,
    ``apt-get update && apt-get install -y ...``.

    Raises:
        ValueError: unknown ``manager``.
    """
    fam = family(manager)
    names = " ".join(shlex.quote(p) for p in packages)
    if fam == "apk":
        return f"apk add --no-cache {names}"
    if fam == "deb":
        return f"apt-get update && apt-get install -y {names}"
    return f"{manager} install -y {names}"


def search_command(manager: str, kind: str, name: str) -> str:
    """A command that finds the package really providing something, to confirm a guess.

    Args:
        manager: ``dnf``, ``yum``, ``apk`` or ``apt-get``.
        kind: ``header``, ``library``, ``pkg-config`` (what provides this file) or
            ``package`` (which package names resemble this one).
        name: the header, library (``foo`` for ``-lfoo``), module or package name.

    Raises:
        ValueError: unknown ``manager``.
    """
    fam = family(manager)
    if kind == "package":
        stem = re.sub(r"-(?:devel|dev)$", "", name).removeprefix("lib")
        if fam == "deb":
            return f"apt-get update && apt-cache search {stem}"
        return f"apk search {stem}" if fam == "apk" else f"{manager} search {stem}"
    if kind == "library":
        pattern = f"lib{name}.so"
    elif kind == "pkg-config":
        pattern = f"{name}.pc"
    else:
        pattern = name
    if fam == "rpm":
        return f"{manager} provides '*/{pattern}'"
    if fam == "apk":
        if kind == "library":
            return f"apk search -x 'so:lib{name}.so*'"
        if kind == "pkg-config":
            return f"apk search -x 'pc:{name}'"
        return f"apk search {re.split(r'[/.]', name, maxsplit=1)[0]}"
    return f"apt-get install -y apt-file && apt-file update && apt-file search {pattern}"
