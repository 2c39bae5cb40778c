#!/usr/bin/env bash
# Make Podman's Docker-compatible API answer on this machine (Debian 12, root), for the
# Podman integration tests (tests/integration/test_podman.py, which load the test image
# into Podman and start real containers). Prints the DOCKER_HOST to use on its last line.
#
# Debian's podman 4.3 cannot start containers here with its defaults:
# - it sets RLIMIT_NOFILE (1048576) and RLIMIT_NPROC above this machine's hard limits, and
#   the process lacks CAP_SYS_RESOURCE: "error setting rlimit type 6/7: operation not
#   permitted". Podman also lowers its own RLIMIT_NPROC to kernel.pid_max, so nproc must
#   stay at or below that;
# - crun 1.8 refuses hybrid cgroups ("cgroups in hybrid mode not supported").
# So the service runs with a containers.conf (CONTAINERS_CONF) that sets default_ulimits
# within the current hard limits, and runc as the OCI runtime.
set -euo pipefail

sock_dir=/run/podman
sock="$sock_dir/podman.sock"
host="unix://$sock"

if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then
  echo "ensure-podman: installing podman and runc" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq podman runc >/dev/null
fi

conf_dir=/run/manywheels-podman
mkdir -p "$conf_dir" "$sock_dir"
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
[ "$nofile" -gt 1048576 ] && nofile=1048576
nproc=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max)
{ [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; } && nproc=$pid_max
cat >"$conf_dir/containers.conf" <<EOF
# Written by .ci/ensure-podman.sh: ulimits within this machine's hard limits, runc.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF

answers() {
  curl -fsS --unix-socket "$sock" http://d/_ping >/dev/null 2>&1
}

if ! answers; then
  log=/tmp/manywheels-podman.log
  echo "ensure-podman: starting the podman API service (log: $log)" >&2
  CONTAINERS_CONF="$conf_dir/containers.conf" nohup podman system service --time=0 "$host" \
    >"$log" 2>&1 &
  for _ in $(seq 1 60); do
    answers && break
    sleep 1
  done
  if ! answers; then
    echo "ensure-podman: the podman service did not answer within 60 s; last log lines:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
fi

echo "ensure-podman: podman $(podman --version | awk '{print $3}') answers at $host" >&2
echo "$host"
