#!/usr/bin/env bash
# Renders the well production example's asset graph to docs/img/wells-graph.svg: the
# example binary's `graph --format dot`, laid out by Graphviz `dot`.
#
#   scripts/render-graph.sh            # writes docs/img/wells-graph.svg
#   scripts/render-graph.sh out.svg    # writes out.svg
#
# Installs Graphviz with apt-get when `dot` is missing (as root, or through sudo).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/docs/img/wells-graph.svg}"

if ! command -v dot >/dev/null 2>&1; then
    echo "graphviz is not installed; installing it with apt-get" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq graphviz >/dev/null
fi

cd "$root"
cargo build -q -p phlo-examples --bin wells
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$(dirname "$out")"
# The graph needs no warehouse: a fresh temporary one keeps the working tree clean.
warehouse="$(mktemp -d)"
trap 'rm -rf "$warehouse"' EXIT
"$target/debug/wells" --warehouse "$warehouse" graph --select '@group:wells' --format dot \
    | dot -Tsvg -o "$out"
echo "wrote $out" >&2
