#!/usr/bin/env bash
# Make this machine a Docker host labour can use, doing only what is missing:
#   1. install the engine (docker.io) and debootstrap from Debian's packages
#      (and python3-venv, which the local runtime needs, and python3-pip, which
#      build-py27.sh needs, if python3 lacks them);
#   2. start dockerd with no bridge and no iptables (only loopback traffic:
#      servers then run with --network host and bind 127.0.0.1);
#   3. build the offline base images labour/base:bookworm (images/base/build.sh)
#      and labour/base:bullseye-py27 (images/base/build-py27.sh, for the seed's
#      Python 2 servers) for hosts that cannot reach Docker Hub.
# Needs root (apt, dockerd). Safe to run again: an engine that answers and an
# image that exists are left alone.
#
# usage: scripts/docker-host.sh [--no-base-image]
# A dockerd this script starts writes its pid to /run/labour-dockerd.pid and
# its log to /var/log/labour-dockerd.log; stop it with
#   kill "$(cat /run/labour-dockerd.pid)"
set -euo pipefail

cd "$(dirname "$0")/.."
# Each base image and the script that builds it.
base_images=(labour/base:bookworm=images/base/build.sh labour/base:bullseye-py27=images/base/build-py27.sh)
want_base=1
[ "${1:-}" = "--no-base-image" ] && want_base=0

say() { echo "docker-host: $*" >&2; }

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
[ "$want_base" = 1 ] && ! command -v debootstrap >/dev/null && missing+=(debootstrap)
# The local runtime (and its tests) make virtualenvs: Debian splits venv out.
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
# build-py27.sh fetches Python 2.7's pip and virtualenv with the host's pip.
[ "$want_base" = 1 ] && ! python3 -m pip --version >/dev/null 2>&1 && missing+=(python3-pip)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if docker info >/dev/null 2>&1; then
    say "the Docker engine already answers"
else
    say "starting dockerd (no bridge, no iptables)"
    dockerd --iptables=false --bridge=none >/var/log/labour-dockerd.log 2>&1 &
    echo $! >/run/labour-dockerd.pid
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    if ! docker info >/dev/null 2>&1; then
        say "dockerd did not answer within 60 s; its log:"
        tail -n 20 /var/log/labour-dockerd.log >&2
        exit 2
    fi
    say "dockerd is up (pid $(cat /run/labour-dockerd.pid))"
fi

if [ "$want_base" = 1 ]; then
    for entry in "${base_images[@]}"; do
        image=${entry%%=*} script=${entry#*=}
        if docker image inspect "$image" >/dev/null 2>&1; then
            say "$image already exists"
        else
            say "building $image with debootstrap"
            "$script" "$image" >/dev/null
        fi
    done
fi
