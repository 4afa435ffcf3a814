#!/usr/bin/env bash
# Build labour's offline base image from Debian packages with debootstrap.
#
# For Docker hosts that cannot reach Docker Hub (air-gapped, or behind a
# proxy): the image holds Debian bookworm with python3, venv and pip, and
# the host's CA bundle, so pip inside image builds trusts the same proxy
# the host trusts. Use it with `labour bench --base-image labour/base:bookworm`
# or LABOUR_BASE_IMAGE=labour/base:bookworm. build-py27.sh builds the
# Python 2.7 one for the seed's Python 2 servers.
#
# usage: images/base/build.sh [TAG]      (default TAG: labour/base:bookworm)
# env:   LABOUR_DEBIAN_MIRROR  mirror to use instead of the one in apt sources
#        LABOUR_CA_BUNDLE      CA bundle to copy in (default: the host's)
set -euo pipefail

# shellcheck source=images/base/lib.sh
. "$(dirname "$0")/lib.sh"

tag=${1:-labour/base:bookworm}
preflight
make_rootfs bookworm python3,python3-venv,python3-pip,ca-certificates
import_rootfs "$tag" python3
