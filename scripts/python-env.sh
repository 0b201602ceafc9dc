#!/usr/bin/env bash
# Creates <repo>/.venv with the Python packages that read phlo's Delta tables back
# (tests/tests/python_interop.rs, scripts/read_delta.py). Idempotent and quiet: a venv that
# already has the pinned versions is left alone. Without python3 it says so and exits 0,
# and the interop test skips.
#
#   scripts/python-env.sh          # then: .venv/bin/python scripts/read_delta.py TABLE_DIR
#   scripts/python-env.sh --bench  # <repo>/.venv-bench: also the side-by-side bench's
#                                  # contenders (Polars, DuckDB, pandas, Pandera,
#                                  # dbt-core with dbt-duckdb)
#
# PHLO_VENV overrides the venv's location.
set -euo pipefail

# Pinned: deltalake 1.6 reads tables written by deltalake-rs 1.1 (phlo's writer).
DELTALAKE_VERSION="1.6.6"
PYARROW_VERSION="21.0.0"

# The contenders of `bench/compare.sh`, pinned so every run measures the same versions
# (dbt-duckdb runs the well-production graph of scenario S5; it accepts duckdb >= 1.0).
BENCH_PACKAGES="polars==2.1.0 duckdb==2.0.1 pandas==3.1.1 pandera==0.35.0 dbt-core==1.11.16 dbt-duckdb==1.11.1 psycopg[binary]==3.2.10 sqlalchemy==2.0.43 dlt==1.31.0"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want="deltalake==$DELTALAKE_VERSION pyarrow==$PYARROW_VERSION"
default_venv="$root/.venv"
if [[ "${1:-}" == "--bench" ]]; then
    want="$want $BENCH_PACKAGES"
    default_venv="$root/.venv-bench"
fi
venv="${PHLO_VENV:-$default_venv}"
stamp="$venv/.phlo-requirements"

if ! command -v python3 >/dev/null 2>&1; then
    echo "python-env: python3 not found; the Delta read-back check needs it (skipped)" >&2
    exit 0
fi

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
    if ! python3 -m venv "$venv" >/dev/null; then
        echo "python-env: 'python3 -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2
        exit 1
    fi
fi

# shellcheck disable=SC2086 # $want is a list of requirements
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want; then
    echo "python-env: could not install $want into $venv" >&2
    exit 1
fi
echo "$want" >"$stamp"
