#!/usr/bin/env python3
"""Reads a Delta table with Python `deltalake` and prints it as one JSON object.

    .venv/bin/python scripts/read_delta.py WAREHOUSE/bronze/events

Output (stable, for comparison with what phlo reads itself):

    {"version": 1, "num_rows": 3, "columns": ["id", ...],
     "rows": [{"id": "e1", "ts": "2025-01-15T01:00:00Z", "value": "10.0", "note": null, ...}]}

Rows are sorted by the first column. Every value is a string: timestamps in UTC as
ISO-8601 with `Z` (fractional seconds only when not zero, as microseconds), dates as
YYYY-MM-DD, floats as their shortest round-trip repr, booleans as true/false; lists are
arrays of such strings; nulls are null.
"""

import json
import os
import sys
from datetime import date, datetime, timezone

from deltalake import DeltaTable


def text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        fraction = f".{value.microsecond:06d}" if value.microsecond else ""
        return value.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return [text(v) for v in value]
    return str(value)


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} TABLE_DIR", file=sys.stderr)
        return 2
    table = DeltaTable(argv[1])
    data = table.to_pyarrow_table()
    columns = data.column_names
    rows = [{k: text(v) for k, v in row.items()} for row in data.to_pylist()]
    if columns:
        first = columns[0]
        rows.sort(key=lambda r: (r[first] is not None, r[first] or ""))
    json.dump(
        {"version": table.version(), "num_rows": data.num_rows, "columns": columns, "rows": rows},
        sys.stdout,
        ensure_ascii=False,
        indent=1,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    try:
        code = main(sys.argv)
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `read_delta.py … | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    # Leave without the interpreter's teardown: deltalake's native runtime threads
    # occasionally abort the process there ("terminate called without an active
    # exception", SIGABRT) after the work is done and printed.
    os._exit(code)
