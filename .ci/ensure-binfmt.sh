#!/usr/bin/env bash
# Make aarch64 binaries run on this (x86_64) machine, in containers too, for the
# aarch64 test image (tests/image/platform_images.py). Debian 12, root. Idempotent.
#
# 1. installs qemu-user-static and binfmt-support when missing (apt-get update first);
# 2. mounts binfmt_misc on /proc/sys/fs/binfmt_misc when it is not mounted;
# 3. makes sure the kernel has the qemu-aarch64 handler registered and enabled, with
#    the F ("fix binary") flag: the kernel opens the interpreter at registration, so
#    it works in containers that do not contain /usr/libexec/qemu-binfmt/... .
# Prints one line per step saying what it did.
set -euo pipefail

binfmt=/proc/sys/fs/binfmt_misc
handler="$binfmt/qemu-aarch64"
say() { echo "ensure-binfmt: $*"; }

if command -v update-binfmts >/dev/null 2>&1 && [ -e /usr/share/binfmts/qemu-aarch64 ]; then
  say "qemu-user-static and binfmt-support already installed"
else
  say "installing qemu-user-static and binfmt-support"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Their maintainer scripts may fail to register handlers while binfmt_misc is not
  # mounted; that is repaired below.
  apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null
fi

if [ -e "$binfmt/register" ]; then
  say "binfmt_misc already mounted"
else
  say "mounting binfmt_misc on $binfmt"
  mount -t binfmt_misc binfmt_misc "$binfmt"
fi

has_fix_binary() { grep -q '^flags: .*F' "$handler"; }

if [ -e "$handler" ] && ! has_fix_binary; then
  # Registered by someone else without F: useless in containers, so register it anew.
  say "qemu-aarch64 handler lacks the F flag ($(grep '^flags:' "$handler")): unregistering it"
  echo -1 >"$handler"
fi
if [ -e "$handler" ]; then
  say "qemu-aarch64 handler already registered"
else
  say "registering the qemu-aarch64 handler"
  # --import is a no-op when binfmt-support's database already has the format.
  update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
fi
if [ -e "$handler" ] && ! grep -qx enabled "$handler"; then
  say "enabling the qemu-aarch64 handler"
  echo 1 >"$handler"
fi

if [ ! -e "$handler" ] || ! grep -qx enabled "$handler" || ! has_fix_binary; then
  echo "ensure-binfmt: the qemu-aarch64 handler is not registered and enabled with flag F:" >&2
  cat "$handler" >&2 2>/dev/null || echo "  ($handler does not exist)" >&2
  exit 1
fi
say "qemu-aarch64: $(tr '\n' ' ' <"$handler")"
