#!/bin/sh
# Make docs/matrix.png: the HTML report of a whole-matrix run as it opens
# in a 1400 x 900 window (the title line, the matrix, the setup folded).
# Usage: scripts/matrix-screenshot.sh RESULTS.json
# Needs chromium and ImageMagick (apt-get install chromium imagemagick).
set -eu
results=$(realpath "$1")
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo run --quiet --locked -- report "$results" --format html --output "$dir/matrix.html"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$dir/profile" --hide-scrollbars --virtual-time-budget=5000 \
    --window-size=1400,900 --screenshot="$dir/matrix.png" "file://$dir/matrix.html" \
    2>/dev/null
convert "$dir/matrix.png" -colors 256 -strip docs/matrix.png
echo "docs/matrix.png: $(wc -c < docs/matrix.png) bytes"
