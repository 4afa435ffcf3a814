# Shared by labour's base image scripts (build.sh, build-py27.sh): source it.
#
# env:   LABOUR_DEBIAN_MIRROR  mirror to use instead of the one in apt sources
#        LABOUR_CA_BUNDLE      CA bundle to copy in (default: the host's)

ca_bundle=${LABOUR_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

die() { echo "error: $*" >&2; exit 2; }
say() { echo "labour: $*" >&2; }

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

# Check the tools, the engine and the CA bundle; set $mirror.
preflight() {
    command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
    command -v docker >/dev/null || die "the docker client is not installed"
    docker info >/dev/null 2>&1 || die "no Docker engine answers (is dockerd running?)"
    [ -r "$ca_bundle" ] || die "CA bundle $ca_bundle is not readable (set LABOUR_CA_BUNDLE)"
    mirror=${LABOUR_DEBIAN_MIRROR:-$(apt_mirror)}
    [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt sources (set LABOUR_DEBIAN_MIRROR)"
}

# debootstrap SUITE with the packages PACKAGES (comma separated) into a new
# temporary directory, removed on exit; sets $rootfs. The host's CA bundle
# goes in, apt's downloads and lists go out.
make_rootfs() {
    local suite=$1 packages=$2
    rootfs=$(mktemp -d "${TMPDIR:-/tmp}/labour-base.XXXXXX")
    # shellcheck disable=SC2064  # expand now: $rootfs is this call's
    trap "rm -rf '$rootfs'" EXIT
    say "debootstrap $suite from $mirror into $rootfs"
    debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >&2
    cp "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
}

# Import $rootfs as image TAG with Python's usual environment; CMD is the
# interpreter to start by default.
import_rootfs() {
    local tag=$1 cmd=$2
    say "importing $tag"
    tar -C "$rootfs" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' \
        --change "CMD [\"$cmd\"]" \
        - "$tag" >/dev/null
    echo "$tag"
}
