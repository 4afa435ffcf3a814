#!/usr/bin/env bash
# Build labour's offline Python 2.7 base image from Debian packages with
# debootstrap, for the seed's Python 2 servers (cogen, fapws3, the *-py27
# variants).
#
# Debian bullseye is the last release with python2.7. The image holds it
# with its headers, gcc, make, libev and libevent (what those servers
# compile against), netbase (/etc/protocols and /etc/services, without
# which socket.getservbyname and the servers' imports fail), /etc/hosts
# with localhost, the host's CA bundle, and pip 20.3.4, setuptools 44.1.1,
# wheel 0.37.1 and virtualenv 16.7.12 (the last of each for Python 2),
# fetched as wheels from PyPI by the host's pip. Images then make
# /opt/venv with `python2.7 -m virtualenv`, as they would on python:2.7-slim.
#
# usage: images/base/build-py27.sh [TAG]   (default TAG: labour/base:bullseye-py27)
# env:   LABOUR_DEBIAN_MIRROR  mirror to use instead of the one in apt sources
#        LABOUR_CA_BUNDLE      CA bundle to copy in (default: the host's)
#        LABOUR_HOST_PYTHON    the host's Python with pip (default: python3)
set -euo pipefail

# shellcheck source=images/base/lib.sh
. "$(dirname "$0")/lib.sh"

tag=${1:-labour/base:bullseye-py27}
host_python=${LABOUR_HOST_PYTHON:-python3}
wheels="pip==20.3.4 setuptools==44.1.1 wheel==0.37.1 virtualenv==16.7.12"

"$host_python" -m pip --version >/dev/null 2>&1 \
    || die "$host_python has no pip to fetch Python 2.7's wheels with (set LABOUR_HOST_PYTHON)"
preflight
make_rootfs bullseye python2.7,python2.7-dev,gcc,make,libc6-dev,libev-dev,libevent-dev,netbase,ca-certificates

printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"

say "fetching $wheels for Python 2.7"
mkdir "$rootfs/tmp/wheels"
# shellcheck disable=SC2086  # one word per requirement
"$host_python" -m pip download --quiet --no-deps --only-binary=:all: --python-version 2.7 \
    --dest "$rootfs/tmp/wheels" $wheels >&2
# pip runs from its own wheel to install itself and the others, offline.
pip_wheel=$(cd "$rootfs/tmp/wheels" && echo pip-*.whl)
chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    sh -c "python2.7 /tmp/wheels/$pip_wheel/pip install --quiet --no-cache-dir --no-index \
        --disable-pip-version-check --no-warn-script-location /tmp/wheels/*.whl" >&2
rm -rf "$rootfs/tmp/wheels"
chroot "$rootfs" python2.7 -m virtualenv --version >/dev/null \
    || die "virtualenv does not run in the new root filesystem"

import_rootfs "$tag" python2.7
