"""Hypothesis strategies shared by the property tests of several layers."""

from __future__ import annotations

from hypothesis import strategies as st

from manywheels.naming._tags import PythonTag

__all__ = ["arches", "policies", "tags", "var_names", "words"]

tags = st.builds(PythonTag, st.just(3), st.integers(6, 99), st.booleans())

arches = st.sampled_from(["x86_64", "aarch64", "i686", "ppc64le", "s390x", "armv7l"])
policies = st.one_of(
    st.tuples(st.just("manylinux"), st.integers(5, 40), arches).map(
        lambda p: (f"manylinux_2_{p[1]}_{p[2]}", f"manylinux_{p[2]}")),
    st.tuples(st.sampled_from(["manylinux1", "manylinux2010", "manylinux2014"]), arches).map(
        lambda p: (f"{p[0]}_{p[1]}", f"manylinux_{p[1]}")),
    st.tuples(st.integers(1, 3), arches).map(
        lambda p: (f"musllinux_1_{p[0]}_{p[1]}", f"musllinux_{p[1]}")),
)


words = st.from_regex(r"\A[a-z0-9][a-z0-9_.-]{0,9}\Z")
var_names = st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,8}\Z")
