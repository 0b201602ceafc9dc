"""The PostgreSQL contenders of `phlo-bench --bin postgres`: the same 1M rows × 6 columns
published with pandas ``to_sql`` and with psycopg ``COPY``, and read back with pandas
``read_sql`` and with dlt's ``sql_database`` source (pyarrow backend, extract only).

    .venv-bench/bin/python bench/contenders/postgres_py.py URL ROWS [--skip-to-sql]

``--skip-to-sql`` leaves out pandas ``to_sql`` (about 3 minutes per million rows).

Prints one JSON object per step: {"step", "seconds", "rows"}.
"""

import io
import json
import sys
import time

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa


def frame(rows):
    ids = np.arange(rows, dtype=np.int64)
    return pd.DataFrame(
        {
            "id": ids,
            "well_code": [f"W-{i % 5000:05d}" for i in ids],
            "oil_bbl": (ids % 997) * 1.25,
            "revenue": (ids * 731 % 10_000_000) / 100.0,
            "day": pd.to_datetime(20_000 + ids % 365, unit="D").date,
            "updated_at": pd.to_datetime(1_736_942_400_000_000 + ids * 1_000_003, unit="us", utc=True),
        }
    )


def emit(step, seconds, rows):
    print(json.dumps({"step": step, "seconds": round(seconds, 3), "rows": rows}), flush=True)


def main():
    url, rows = sys.argv[1], int(sys.argv[2])
    df = frame(rows)
    engine = sa.create_engine(url.replace("postgres://", "postgresql+psycopg://", 1))
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE SCHEMA IF NOT EXISTS bench")
        c.execute("DROP TABLE IF EXISTS bench.wells_pandas, bench.wells_psycopg")

    skip_to_sql = "--skip-to-sql" in sys.argv[3:]
    t = time.perf_counter()
    if not skip_to_sql:
        df.to_sql("wells_pandas", engine, schema="bench", if_exists="replace", index=False,
                  method="multi", chunksize=10_000)
        emit("pandas to_sql (method=multi)", time.perf_counter() - t, rows)

    t = time.perf_counter()
    with psycopg.connect(url) as c:
        c.execute(
            "CREATE TABLE bench.wells_psycopg (id bigint, well_code text, oil_bbl double precision, "
            "revenue numeric(14,2), day date, updated_at timestamptz)"
        )
        buf = io.StringIO()
        df.to_csv(buf, index=False, header=False)
        buf.seek(0)
        with c.cursor() as cur, cur.copy("COPY bench.wells_psycopg FROM STDIN (FORMAT csv)") as cp:
            while chunk := buf.read(1 << 20):
                cp.write(chunk)
    emit("psycopg COPY (CSV from pandas)", time.perf_counter() - t, rows)

    t = time.perf_counter()
    back = pd.read_sql("SELECT * FROM bench.wells_psycopg", engine)
    emit("pandas read_sql", time.perf_counter() - t, len(back))

    import dlt
    from dlt.sources.sql_database import sql_table

    t = time.perf_counter()
    resource = sql_table(credentials=url.replace("postgres://", "postgresql+psycopg://", 1),
                         schema="bench", table="wells_psycopg", backend="pyarrow", chunk_size=65_536)
    n = sum(batch.num_rows for batch in resource)
    emit(f"dlt sql_database (pyarrow, extract only, dlt {dlt.__version__})", time.perf_counter() - t, n)


if __name__ == "__main__":
    main()
