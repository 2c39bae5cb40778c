"""The simple API client of publish: URL derivation, PEP 691 JSON / PEP 503 HTML pages,
redirects, errors and hash comparison, against an in-memory requests transport."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from manywheels.errors import PublishError
from manywheels.stages.publish._index import (
    IndexFile,
    IndexQueryError,
    file_matches,
    is_pypi,
    project_files,
    project_url,
    simple_url_for,
    strip_userinfo,
)

JSON = "application/vnd.pypi.simple.v1+json"
WHEEL = "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"


Pages = Mapping[str, tuple[int, dict[str, str], bytes]]


class Canned(BaseAdapter):
    """A transport answering from a dict: URL -> (status, headers, body)."""

    def __init__(self, pages: Pages) -> None:
        super().__init__()
        self.pages = dict(pages)
        self.requests: list[requests.PreparedRequest] = []

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any  # noqa: ARG002
    ) -> requests.Response:
        self.requests.append(request)
        status, headers, body = self.pages.get(str(request.url), (404, {}, b"not found"))
        response = requests.Response()
        response.status_code = status
        response.reason = {200: "OK", 301: "Moved", 401: "Unauthorized", 404: "Not Found",
                           500: "Server Error"}.get(status, "")
        response.headers = CaseInsensitiveDict(headers)
        response.raw = io.BytesIO(body)
        response.url = str(request.url)
        response.request = request
        return response

    def close(self) -> None:
        pass


def session_for(pages: Pages) -> tuple[requests.Session, Canned]:
    session = requests.Session()
    adapter = Canned(pages)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session, adapter


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("upload", "simple"),
    [
        ("https://upload.pypi.org/legacy/", "https://pypi.org/simple/"),
        ("https://upload.pypi.org/legacy", "https://pypi.org/simple/"),
        ("https://test.pypi.org/legacy/", "https://test.pypi.org/simple/"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/simple/"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/simple/"),
        ("https://nexus.example/repository/pypi-internal/",
         "https://nexus.example/repository/pypi-internal/simple/"),
        ("https://gitlab.example/api/v4/projects/42/packages/pypi",
         "https://gitlab.example/api/v4/projects/42/packages/pypi/simple/"),
        ("https://warehouse.example/legacy/", "https://warehouse.example/simple/"),
        ("https://idx.example/simple", "https://idx.example/simple/"),
        ("https://user:pw@idx.example/up/?x=1#f", "https://idx.example/up/simple/"),
    ],
)
def test_simple_url_for(upload: str, simple: str) -> None:
    assert simple_url_for(upload) == simple


@pytest.mark.parametrize("bad", ["ftp://x.example/", "not a url", "https:///path"])
def test_simple_url_for_refuses_non_http(bad: str) -> None:
    with pytest.raises(PublishError):
        simple_url_for(bad)


def test_project_url_normalizes_the_name() -> None:
    assert project_url("https://idx.example/simple", "Zope.Interface_X") == (
        "https://idx.example/simple/zope-interface-x/"
    )


def test_strip_userinfo_and_is_pypi() -> None:
    assert strip_userinfo("https://u:p@h.example:81/x") == "https://h.example:81/x"
    assert strip_userinfo("https://h.example/x") == "https://h.example/x"
    assert is_pypi("https://upload.pypi.org/legacy/")
    assert is_pypi("https://test.pypi.org/legacy/")
    assert not is_pypi("http://127.0.0.1:8080/")


# --------------------------------------------------------------------------- pages


def test_pep_691_json_page() -> None:
    body = json.dumps({
        "meta": {"api-version": "1.1"},
        "name": "demo",
        "files": [
            {"filename": WHEEL, "url": "../../files/" + WHEEL,
             "hashes": {"sha256": "AB" * 32}},
            {"filename": "demo-1.0.tar.gz", "url": "https://cdn.example/demo-1.0.tar.gz",
             "hashes": {}},
        ],
    }).encode()
    session, adapter = session_for({
        "https://idx.example/simple/demo/": (200, {"Content-Type": JSON}, body),
    })
    files = project_files("https://idx.example/simple/", "Demo", session=session)
    assert files[WHEEL] == IndexFile(WHEEL, "https://idx.example/files/" + WHEEL,
                                     {"sha256": "ab" * 32})
    assert files["demo-1.0.tar.gz"].digests == {}
    accept = adapter.requests[0].headers["Accept"]
    assert accept.startswith(JSON)
    assert "text/html" in accept


def test_pep_503_html_page() -> None:
    html = (
        "<!DOCTYPE html><html><body>"
        f'<a href="/packages/{WHEEL}#sha256={"cd" * 32}">{WHEEL}</a><br>'
        '<a href="/packages/demo-1.0.tar.gz#md5=0123456789abcdef0123456789abcdef">'
        "demo-1.0.tar.gz</a>"
        "</body></html>"
    ).encode()
    session, _ = session_for({
        "http://127.0.0.1:8080/simple/demo/": (200, {"Content-Type": "text/html"}, html),
    })
    files = project_files("http://127.0.0.1:8080/simple/", "demo", session=session)
    assert files[WHEEL].url == f"http://127.0.0.1:8080/packages/{WHEEL}"
    assert files[WHEEL].digests == {"sha256": "cd" * 32}
    assert files["demo-1.0.tar.gz"].digests == {"md5": "0123456789abcdef0123456789abcdef"}


def test_404_means_no_files_yet() -> None:
    session, _ = session_for({})
    assert project_files("https://idx.example/simple/", "demo", session=session) == {}


def test_same_origin_redirects_are_followed_others_mean_not_here() -> None:
    page = json.dumps({"meta": {"api-version": "1.0"}, "name": "demo", "files": []}).encode()
    session, _ = session_for({
        "https://idx.example/simple/demo/": (
            301, {"Location": "/simple/demo-canonical/"}, b""),
        "https://idx.example/simple/demo-canonical/": (200, {"Content-Type": JSON}, page),
        "http://local.example/simple/demo/": (
            303, {"Location": "https://pypi.org/simple/demo/"}, b""),
    })
    assert project_files("https://idx.example/simple/", "demo", session=session) == {}
    notes: list[str] = []
    assert project_files("http://local.example/simple/", "demo", session=session,
                         warn=notes.append) == {}
    assert len(notes) == 1
    assert "another server" in notes[0]


@pytest.mark.parametrize(("status", "match"), [(401, "needs \\(other\\) credentials"),
                                               (500, "answered 500")])
def test_http_errors(status: int, match: str) -> None:
    session, _ = session_for({"https://idx.example/simple/demo/": (status, {}, b"")})
    with pytest.raises(IndexQueryError, match=match):
        project_files("https://idx.example/simple/", "demo", session=session)


def test_not_a_simple_page() -> None:
    session, _ = session_for({
        "https://idx.example/simple/demo/": (200, {"Content-Type": "application/pdf"}, b"%PDF"),
    })
    with pytest.raises(IndexQueryError, match="not a simple API project page"):
        project_files("https://idx.example/simple/", "demo", session=session)


def test_connection_errors_are_one_line() -> None:
    session = requests.Session()
    with pytest.raises(IndexQueryError, match=r"cannot read the simple API at http://127\.0\.0\.1:9/"):
        project_files("http://u:secret@127.0.0.1:9/simple/", "demo", session=session,
                      timeout_s=2)


# --------------------------------------------------------------------------- hashes


def test_file_matches_uses_the_given_digest(tmp_path: Path) -> None:
    path = tmp_path / WHEEL
    path.write_bytes(b"wheel bytes")
    sha = hashlib.sha256(b"wheel bytes").hexdigest()
    session, adapter = session_for({})
    assert file_matches(path, IndexFile(WHEEL, "https://x/w", {"sha256": sha}),
                        session=session) == (True, "sha256", sha)
    same, algorithm, _ = file_matches(
        path, IndexFile(WHEEL, "https://x/w", {"sha256": "0" * 64}), session=session)
    assert (same, algorithm) == (False, "sha256")
    md5 = hashlib.md5(b"wheel bytes").hexdigest()
    assert file_matches(path, IndexFile(WHEEL, "https://x/w", {"md5": md5}),
                        session=session)[0]
    assert adapter.requests == []


def test_file_matches_downloads_when_no_digest_is_given(tmp_path: Path) -> None:
    path = tmp_path / WHEEL
    path.write_bytes(b"wheel bytes")
    session, _ = session_for({"https://x/w": (200, {}, b"wheel bytes"),
                              "https://x/other": (200, {}, b"other bytes")})
    assert file_matches(path, IndexFile(WHEEL, "https://x/w"), session=session)[0]
    assert not file_matches(path, IndexFile(WHEEL, "https://x/other"), session=session)[0]
    with pytest.raises(IndexQueryError, match="cannot download"):
        file_matches(path, IndexFile(WHEEL, "https://x/missing"), session=session)
