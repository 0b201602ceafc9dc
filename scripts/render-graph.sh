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
mkdir -p "$(dirname "$out")"
dot_file="$(mktemp)"
trap 'rm -f "$dot_file"' EXIT
# The graph reads no table: the warehouse directory is never created.
cargo run -q -p phlo-examples --bin wells -- graph --select '@group:wells' --format dot >"$dot_file"
dot -Tsvg -o "$out" "$dot_file"
echo "wrote $out" >&2
