"""Shared plumbing of the contender scripts: command line, input paths, key fingerprint, JSON output.

Nothing here is timed; every script times its own work with ``time.perf_counter()``.

The key fingerprint is the sha256 of the table's ids sorted ascending by bytes, each followed by ``"\\n"``:

>>> import hashlib
>>> import pyarrow as pa
>>> keys_sha256(pa.array(["b", "a"])) == hashlib.sha256(b"a\\nb\\n").hexdigest()
True

Run the self-check with ``python -m doctest common.py``.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

CATEGORIES = ["a", "b", "c", "d"]
"""The valid values of ``category``."""

CHECKS = ["not_null(id)", "not_null(ts)", "range(value)", "isin(category)"]
"""The four validation constraints, in the order the ``s3`` report lists them."""

# Options each command needs.
NEEDS = {
    "setup": ("input", "target"),
    "s1": ("input", "target"),
    "s2": ("input", "target"),
    "s3": ("input",),
    "s4": ("target", "now"),
}


def parse_args(supported):
    """Parses ``COMMAND [--input P] [--target T] [--now ISO]``; exits with code 2 on a command
    outside ``supported`` or a missing option (argparse's own convention)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=supported)
    parser.add_argument("--input")
    parser.add_argument("--target")
    parser.add_argument("--now")
    args = parser.parse_args()
    for option in NEEDS[args.command]:
        if getattr(args, option) is None:
            parser.error(f"{args.command} needs --{option}")
    return args


def parquet_source(path):
    """A file path as is; a directory as the glob of all its ``*.parquet`` files."""
    return str(Path(path) / "*.parquet") if Path(path).is_dir() else str(path)


def keys_sha256(ids):
    """sha256 of ``ids`` (a pyarrow string array or chunked array, no nulls) sorted ascending by
    bytes, each id followed by a newline, without a per-string Python loop."""
    ids = ids.cast(pa.large_string())
    if ids.null_count:
        raise ValueError(f"{ids.null_count} null ids")
    empty, newline = pa.scalar("", pa.large_string()), pa.scalar("\n", pa.large_string())
    lines = pc.binary_join_element_wise(pc.take(ids, pc.sort_indices(ids)), empty, newline)
    if isinstance(lines, pa.Array):
        lines = pa.chunked_array([lines], pa.large_string())
    digest = hashlib.sha256()
    for chunk in lines.chunks:
        if len(chunk):
            _, offsets, data = chunk.buffers()
            offsets = pa.Array.from_buffers(pa.int64(), len(chunk) + 1, [None, offsets], offset=chunk.offset)
            digest.update(memoryview(data)[offsets[0].as_py() : offsets[-1].as_py()])
    return digest.hexdigest()


def emit(**fields):
    """Prints the result as one JSON line, the last line of stdout."""
    print(json.dumps(fields), flush=True)


def reject(invalid, rows_in):
    """Strict mode: refuses a load that holds invalid rows (exit code 1, message on stderr)."""
    sys.exit(f"load rejected: {invalid} of {rows_in} rows failed validation; the table is untouched")
