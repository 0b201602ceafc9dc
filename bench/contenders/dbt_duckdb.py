"""Scenario S5 with dbt-core and dbt-duckdb: ``dbt build`` of the generated well-production project.

    python dbt_duckdb.py s5 --project DBT_PROJECT_DIR --target DIR

``DBT_PROJECT_DIR`` is the project ``phlo-bench compare`` generates (``dbt_project.yml``,
``profiles.yml`` with a duckdb target, the models, the seeds, the production table as a source
over its Parquet file). The database file is ``DIR/wells.duckdb``; dbt's target and log
directories are under ``DIR`` too, so every run parses the project from scratch, as a fresh
checkout would. ``seconds`` covers importing dbt and the whole ``dbt build`` (seeds, then the
models in dependency order, on the profile's threads), as the ``dbt build`` command does. The
summary (rows per model, rounded sums) is read afterwards, untimed, with the same queries phlo's
side runs.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

MODELS = [
    "stg_well_production",
    "int_production_cumsum",
    "int_moving_averages",
    "mart_production_monthly",
    "mart_production_yearly",
    "mart_revenue",
]


def main():
    started = time.perf_counter()
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["s5"])
    parser.add_argument("--project", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--input")
    args = parser.parse_args()
    target = Path(args.target)
    target.mkdir(parents=True, exist_ok=True)
    db = target / "wells.duckdb"
    os.environ["PHLO_S5_DUCKDB"] = str(db)
    # No network: dbt's anonymous usage statistics are off.
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"

    from dbt.cli.main import dbtRunner

    imported = time.perf_counter() - started
    result = dbtRunner().invoke(
        [
            "build",
            "--project-dir",
            args.project,
            "--profiles-dir",
            args.project,
            "--target-path",
            str(target / "dbt-target"),
            "--log-path",
            str(target / "dbt-logs"),
            "--quiet",
        ]
    )
    seconds = time.perf_counter() - started
    if not result.success:
        print(f"dbt build failed: {result.exception}", file=sys.stderr)
        sys.exit(1)

    import duckdb

    # dbt-duckdb keeps its database open in this process: connect with the same (default)
    # configuration.
    con = duckdb.connect(str(db))

    def scalar(sql):
        return int(con.execute(sql).fetchone()[0])

    tables = {m: scalar(f"SELECT count(*) FROM {m}") for m in MODELS}
    print(
        json.dumps(
            {
                "seconds": seconds,
                "import_s": imported,
                "build_s": seconds - imported,
                "tables": tables,
                "revenue_usd": scalar("SELECT CAST(ROUND(SUM(revenue_usd)) AS BIGINT) FROM mart_revenue"),
                "revenue_local": scalar("SELECT CAST(ROUND(SUM(revenue_local)) AS BIGINT) FROM mart_revenue"),
                "oil_ma_30d": scalar("SELECT CAST(ROUND(SUM(oil_ma_30d)) AS BIGINT) FROM int_moving_averages"),
            }
        )
    )


if __name__ == "__main__":
    main()
