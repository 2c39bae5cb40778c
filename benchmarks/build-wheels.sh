#!/bin/bash
# The bare loop the manylinux README suggests, as people write it by hand:
# for each interpreter, `pip wheel` the project, `auditwheel repair` the wheel,
# `pip install` it into the interpreter itself (no venvs) and run the test command.
# Used by benchmarks/compare.py as baseline (a); runs in the image with the project at /io.
#
# Environment: TAGS ("cp39 cp310 ..."), PACKAGE (distribution name), TEST_COMMAND,
# BEFORE_ALL (run once first, when set).
set -euo pipefail

if [ -n "${BEFORE_ALL:-}" ]; then
  bash -c "$BEFORE_ALL"
fi

for tag in $TAGS; do
  PYBIN="/opt/python/${tag}-${tag}/bin"
  "$PYBIN/pip" wheel /io/ --no-deps -w "/tmp/raw/$tag"
  auditwheel repair "/tmp/raw/$tag"/*.whl --plat "$AUDITWHEEL_PLAT" -w /io/wheelhouse
  "$PYBIN/pip" install --no-index --find-links /io/wheelhouse "$PACKAGE"
  (cd / && PATH="$PYBIN:$PATH" bash -c "$TEST_COMMAND")
done
