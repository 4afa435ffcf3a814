#!/usr/bin/env bash
# Build labour's offline base image from Debian packages with debootstrap.
#
# For Docker hosts that cannot reach Docker Hub (air-gapped, or behind a
# proxy): the image holds Debian bookworm with python3, venv and pip, and
# the host's CA bundle, so pip inside image builds trusts the same proxy
# the host trusts. Use it with `labour bench --base-image labour/base:bookworm`
# or LABOUR_BASE_IMAGE=labour/base:bookworm.
#
# usage: images/base/build.sh [TAG]      (default TAG: labour/base:bookworm)
# env:   LABOUR_DEBIAN_MIRROR  mirror to use instead of the one in apt sources
#        LABOUR_CA_BUNDLE      CA bundle to copy in (default: the host's)
set -euo pipefail

tag=${1:-labour/base:bookworm}
suite=bookworm
ca_bundle=${LABOUR_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

die() { echo "error: $*" >&2; exit 2; }

# The mirror comes from this machine's own apt configuration: never a
# hard-coded host, so a proxied or mirrored host keeps using its mirror.
apt_mirror() {
    local uri
    uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
    if [ -z "$uri" ]; then
        uri=$(grep -hsE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
            | grep -v -- '-security' | head -n1 || true)
    fi
    echo "$uri"
}

command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
command -v docker >/dev/null || die "the docker client is not installed"
docker info >/dev/null 2>&1 || die "no Docker engine answers (is dockerd running?)"
[ -r "$ca_bundle" ] || die "CA bundle $ca_bundle is not readable (set LABOUR_CA_BUNDLE)"
mirror=${LABOUR_DEBIAN_MIRROR:-$(apt_mirror)}
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt sources (set LABOUR_DEBIAN_MIRROR)"

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/labour-base.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT

echo "labour: debootstrap $suite from $mirror into $rootfs" >&2
debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,ca-certificates \
    "$suite" "$rootfs" "$mirror" >&2

cp "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

echo "labour: importing $tag" >&2
tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' \
    --change 'CMD ["python3"]' \
    - "$tag" >/dev/null
echo "$tag"
