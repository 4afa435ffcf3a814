#!/bin/sh
# Make docs/report.png: the HTML report of tests/fixtures/results-small.json
# (a real run) as headless chromium draws it in the report's own test,
# cropped to the title line, the matrix, the folded setup and the first
# cell's charts.
# Needs chromium and ImageMagick (apt-get install chromium imagemagick).
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
LABOUR_REQUIRE_CHROMIUM=1 LABOUR_HTML_DIR="$dir" \
    cargo test --locked --test integration html_report_of_a_real_run_draws_in_a_browser
convert "$dir/report.png" -crop 1280x2200+0+0 +repage -colors 256 -strip docs/report.png
echo "docs/report.png: $(wc -c < docs/report.png) bytes"
