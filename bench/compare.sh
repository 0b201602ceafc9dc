#!/usr/bin/env bash
# phlo side by side with Polars + deltalake, DuckDB, pandas + Pandera and dbt-duckdb, on the
# same generated Parquet input, on this machine, in one run.
#
#   bench/compare.sh            # full size: S1 1M rows, S2 1M into 10M, S3 10M, S4 10M,
#                               # S5 a 10M-row well production table → build of its graph
#   bench/compare.sh --quick    # a tenth of that (under two minutes once built)
#   bench/compare.sh --only s5  # S5 alone: phlo (ingest the Parquet file + build) against
#                               # dbt-duckdb (`dbt build`, the file as a read_parquet source)
#
# Other flags go to `phlo-bench compare` (--repeat N, --only s1,s2,s3,s4,s5, --rows N,
# --wells-rows N for S5's table, …).
# It installs the contenders into <repo>/.venv-bench from PyPI (pinned versions, see
# scripts/python-env.sh), builds phlo-bench in release mode, and writes the tables to
# stdout and bench/results/compare[-quick].json. Needs python3 with venv, and GNU time
# (/usr/bin/time) for peak RSS.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ ! -x /usr/bin/time ]]; then
    echo "compare.sh: /usr/bin/time (GNU time) is needed for peak RSS; on Debian/Ubuntu: apt-get install time" >&2
    exit 1
fi
scripts/python-env.sh --bench
if [[ ! -x .venv-bench/bin/python ]]; then
    echo "compare.sh: the contenders' venv could not be created (python3 missing?)" >&2
    exit 1
fi
cargo build --release -p phlo-bench
exec target/release/phlo-bench compare "$@"
