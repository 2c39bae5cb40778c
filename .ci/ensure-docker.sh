#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine (Debian 12, root).
# Installs Debian's docker.io when dockerd is absent, starts dockerd in the
# background, and waits until `docker info` answers.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  echo "ensure-docker: engine already answering"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure-docker: installing docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

log=/tmp/manywheels-dockerd.log
echo "ensure-docker: starting dockerd (log: $log)"
nohup dockerd >"$log" 2>&1 &

for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    echo "ensure-docker: engine ready"
    exit 0
  fi
  sleep 1
done
echo "ensure-docker: dockerd did not answer within 120 s; last log lines:" >&2
tail -n 30 "$log" >&2
exit 1
