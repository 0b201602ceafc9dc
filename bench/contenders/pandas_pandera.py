"""Contender: pandas + pandera validation (s3 only).

Usage: python pandas_pandera.py s3 --input P
"""

import time
from typing import Annotated

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from common import CATEGORIES, emit, parse_args


class Events(pa.DataFrameModel):
    id: Series[str] = pa.Field(nullable=False)
    ts: Series[Annotated[pd.DatetimeTZDtype, "us", "UTC"]] = pa.Field(nullable=False)
    value: Series[float] = pa.Field(ge=0, le=100)
    category: Series[str] = pa.Field(isin=CATEGORIES)
    note: Series[str] = pa.Field(nullable=True)


# The check names of the report, by the column pandera reports the failure on.
CHECK_OF_COLUMN = {
    "id": "not_null(id)",
    "ts": "not_null(ts)",
    "value": "range(value)",
    "category": "isin(category)",
}


def validate(args):
    """s3: validate lazily; SchemaErrors.failure_cases (one row per failing value and check) is the report."""
    start = time.perf_counter()
    df = pd.read_parquet(args.input)
    try:
        Events.validate(df, lazy=True)
        failure_cases = pd.DataFrame(columns=["column", "check", "index"])
    except pa.errors.SchemaErrors as err:
        failure_cases = err.failure_cases
    seconds = time.perf_counter() - start
    failing_rows = failure_cases.groupby("column")["index"].nunique()
    emit(
        seconds=seconds,
        rows_in=len(df),
        invalid=int(failure_cases["index"].nunique()),
        failures={check: int(failing_rows.get(column, 0)) for column, check in CHECK_OF_COLUMN.items()},
        report_rows=len(failure_cases),
    )


if __name__ == "__main__":
    validate(parse_args(["s3"]))
