"""Contender: Polars DataFrames written to a Delta Lake table (deltalake), partitioned by day.

Usage: python polars_delta.py {setup,s1,s2,s3,s4} [--input P] [--target DELTA_DIR] [--now ISO]
"""

import time
from datetime import datetime, timedelta

import polars as pl

from common import CATEGORIES, emit, keys_sha256, parquet_source, parse_args, reject

# Each constraint as a "this row fails" expression.
FAILS = {
    "not_null(id)": pl.col("id").is_null(),
    "not_null(ts)": pl.col("ts").is_null(),
    "range(value)": ~pl.col("value").is_between(0, 100),
    "isin(category)": ~pl.col("category").is_in(CATEGORIES),
}
INVALID = pl.any_horizontal(FAILS.values())

EXPECTED_SCHEMA = {
    "id": pl.String,
    "ts": pl.Datetime("us", "UTC"),
    "value": pl.Float64,
    "category": pl.String,
    "note": pl.String,
}


def prepare(df):
    """Keeps the latest row per id and adds the partition column."""
    return df.sort("ts").unique(subset="id", keep="last").with_columns(day=pl.col("ts").dt.date())


def load(args):
    """s1 (new table) / s2 (upsert by id): read, validate (strict), dedup, write."""
    start = time.perf_counter()
    df = pl.read_parquet(parquet_source(args.input))
    invalid = df.select(INVALID.sum()).item()
    if invalid:
        reject(invalid, df.height)
    out = prepare(df)
    if args.command == "s1":
        out.write_delta(args.target, delta_write_options={"partition_by": ["day"]})
    else:
        (
            out.write_delta(
                args.target,
                mode="merge",
                delta_merge_options={"predicate": "s.id = t.id", "source_alias": "s", "target_alias": "t"},
            )
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )
    seconds = time.perf_counter() - start
    ids = pl.scan_delta(args.target).select("id").collect().to_series()
    emit(
        seconds=seconds,
        rows_in=df.height,
        invalid=invalid,
        rows_out=ids.len(),
        keys_sha256=keys_sha256(ids.to_arrow()),
    )


def setup(args):
    """The base table: all base files (valid, unique keys), partitioned by day."""
    df = pl.read_parquet(parquet_source(args.input)).with_columns(day=pl.col("ts").dt.date())
    df.write_delta(args.target, delta_write_options={"partition_by": ["day"]})


def validate(args):
    """s3: the four constraints as expressions; the failing rows, with one flag per check, are the report."""
    start = time.perf_counter()
    df = pl.read_parquet(parquet_source(args.input))
    report = df.with_columns(**FAILS).filter(pl.any_horizontal(list(FAILS)))
    failures = report.select(pl.col(list(FAILS)).sum()).row(0, named=True)
    seconds = time.perf_counter() - start
    emit(
        seconds=seconds,
        rows_in=df.height,
        invalid=report.height,
        failures=failures,
        report_rows=report.height,
    )


def quality(args):
    """s4: seven checks over the table, one lazy query (plus the SQL check) collected together."""
    now = datetime.fromisoformat(args.now)
    start = time.perf_counter()
    events = pl.scan_delta(args.target)
    schema = events.collect_schema()
    stats = events.select(
        rows=pl.len(),
        nulls=(FAILS["not_null(id)"] | FAILS["not_null(ts)"]).sum(),
        out_of_range=FAILS["range(value)"].sum(),
        bad_category=FAILS["isin(category)"].sum(),
        ids=pl.col("id").count(),
        distinct_ids=pl.col("id").drop_nulls().n_unique(),
        max_ts=pl.col("ts").max(),
    )
    custom = pl.SQLContext(events=events).execute("SELECT count(*) AS n FROM events WHERE value < 0")
    stats, custom = pl.collect_all([stats, custom])
    s = stats.row(0, named=True)
    null = s["nulls"] == 0
    unique = s["distinct_ids"] == s["ids"]
    checks = {
        "null": null,
        "range": s["out_of_range"] <= 0.01 * s["rows"],
        "unique": unique,
        "count": s["rows"] >= 1,
        "freshness": s["max_ts"] is not None and s["max_ts"] >= now - timedelta(hours=24),
        "schema": EXPECTED_SCHEMA.items() <= schema.items()
        and null
        and unique
        and s["out_of_range"] == 0
        and s["bad_category"] == 0,
        "custom_sql": custom.item() == 0,
    }
    seconds = time.perf_counter() - start
    emit(seconds=seconds, rows=s["rows"], checks=checks)


if __name__ == "__main__":
    args = parse_args(["setup", "s1", "s2", "s3", "s4"])
    {"setup": setup, "s1": load, "s2": load, "s3": validate, "s4": quality}[args.command](args)
