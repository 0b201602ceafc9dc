"""Contender: DuckDB SQL over Parquet, into a table `events` of a persistent DuckDB database file.

Usage: python duckdb_sql.py {setup,s1,s2,s3,s4} [--input P] [--target DB_FILE] [--now ISO]
"""

import time

import duckdb

from common import emit, keys_sha256, parquet_source, parse_args, reject

CREATE = """
CREATE TABLE events (
    id       VARCHAR NOT NULL,
    ts       TIMESTAMPTZ NOT NULL,
    value    DOUBLE NOT NULL CHECK (value BETWEEN 0 AND 100),
    category VARCHAR NOT NULL CHECK (category IN ('a', 'b', 'c', 'd')),
    note     VARCHAR
)"""

# Each constraint as a "this row fails" predicate.
FAILS = {
    "not_null(id)": "id IS NULL",
    "not_null(ts)": "ts IS NULL",
    "range(value)": "value NOT BETWEEN 0 AND 100",
    "isin(category)": "category NOT IN ('a', 'b', 'c', 'd')",
}
INVALID = " OR ".join(f"({p})" for p in FAILS.values())

# The column types the schema check expects (information_schema spelling).
EXPECTED_TYPES = {
    "id": "VARCHAR",
    "ts": "TIMESTAMP WITH TIME ZONE",
    "value": "DOUBLE",
    "category": "VARCHAR",
    "note": "VARCHAR",
}

# The load, keeping the latest row per id.
LATEST = """
SELECT id, ts, value, category, note FROM read_parquet($1)
QUALIFY row_number() OVER (PARTITION BY id ORDER BY ts DESC) = 1"""

COUNT = f"SELECT count(*), count(*) FILTER (WHERE {INVALID}) FROM read_parquet($1)"

UPSERT = f"""
MERGE INTO events USING ({LATEST}) AS s ON events.id = s.id
WHEN MATCHED THEN UPDATE
WHEN NOT MATCHED THEN INSERT"""


def load(args):
    """s1 (new table) / s2 (upsert by id): count invalid rows, then insert or merge, in one transaction."""
    source = parquet_source(args.input)
    start = time.perf_counter()
    con = duckdb.connect(args.target)
    con.begin()
    [(rows_in, invalid)] = con.execute(COUNT, [source]).fetchall()
    if invalid:
        con.rollback()
        reject(invalid, rows_in)
    if args.command == "s1":
        con.execute(CREATE)
        con.execute(f"INSERT INTO events {LATEST}", [source])
    else:
        con.execute(UPSERT, [source])
    con.commit()
    con.close()
    seconds = time.perf_counter() - start
    with duckdb.connect(args.target, read_only=True) as con:
        ids = con.sql("SELECT id FROM events").to_arrow_table()["id"]
    emit(seconds=seconds, rows_in=rows_in, invalid=invalid, rows_out=len(ids), keys_sha256=keys_sha256(ids))


def setup(args):
    """The base table: all base files (valid, unique keys)."""
    with duckdb.connect(args.target) as con:
        con.execute(CREATE)
        con.execute(
            "INSERT INTO events SELECT id, ts, value, category, note FROM read_parquet($1)",
            [parquet_source(args.input)],
        )


def validate(args):
    """s3: one aggregate with a count per check, and the failing rows (as Arrow) as the report."""
    source = parquet_source(args.input)
    counts = ", ".join(f"count(*) FILTER (WHERE {p})" for p in FAILS.values())
    start = time.perf_counter()
    con = duckdb.connect()
    [(rows_in, invalid, *failures)] = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {INVALID}), {counts} FROM read_parquet($1)", [source]
    ).fetchall()
    report = con.sql(f"SELECT * FROM read_parquet($1) WHERE {INVALID}", params=[source]).to_arrow_table()
    seconds = time.perf_counter() - start
    con.close()
    emit(
        seconds=seconds,
        rows_in=rows_in,
        invalid=invalid,
        failures=dict(zip(FAILS, failures)),
        report_rows=report.num_rows,
    )


def quality(args):
    """s4: seven checks over `events`, one query each (the schema check adds the column types)."""
    start = time.perf_counter()
    con = duckdb.connect(args.target, read_only=True)

    def one(sql, *params):
        [(result,)] = con.execute(sql, list(params)).fetchall()
        return result

    rows = one("SELECT count(*) FROM events")
    null = one("SELECT count(*) = 0 FROM events WHERE id IS NULL OR ts IS NULL")
    unique = one("SELECT count(DISTINCT id) = count(id) FROM events")
    in_domain = one(f"SELECT count(*) = 0 FROM events WHERE ({FAILS['range(value)']}) OR ({FAILS['isin(category)']})")
    types = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'events'")
    types = dict(types.fetchall())
    checks = {
        "null": null,
        "range": one("SELECT count(*) FILTER (WHERE value NOT BETWEEN 0 AND 100) <= 0.01 * count(*) FROM events"),
        "unique": unique,
        "count": rows >= 1,
        "freshness": one("SELECT coalesce(max(ts) >= $1::TIMESTAMPTZ - INTERVAL 24 HOUR, false) FROM events", args.now),
        "schema": EXPECTED_TYPES.items() <= types.items() and null and unique and in_domain,
        "custom_sql": one("SELECT count(*) FROM events WHERE value < 0") == 0,
    }
    con.close()
    seconds = time.perf_counter() - start
    emit(seconds=seconds, rows=rows, checks=checks)


if __name__ == "__main__":
    args = parse_args(["setup", "s1", "s2", "s3", "s4"])
    {"setup": setup, "s1": load, "s2": load, "s3": validate, "s4": quality}[args.command](args)
