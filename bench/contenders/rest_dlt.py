"""The REST contender of `phlo-bench --bin rest`: dlt's ``rest_api`` source reading every
page of the loopback API (page-number paginator with ``total_pages``, records at
``data``) into DuckDB, merged by ``id`` as phlo's ingestion is.

    .venv-bench/bin/python bench/contenders/rest_dlt.py URL PAGE_SIZE

Prints one JSON object: {"seconds", "rows", "rss_mib"}.
"""

import json
import resource
import sys
import tempfile
import time

import dlt
from dlt.sources.rest_api import rest_api_source


def main():
    url, page = sys.argv[1], int(sys.argv[2])
    source = rest_api_source(
        {
            "client": {
                "base_url": url,
                "paginator": {
                    "type": "page_number",
                    "base_page": 1,
                    "page_param": "page",
                    "total_path": "total_pages",
                },
            },
            "resources": [
                {
                    "name": "events",
                    "primary_key": "id",
                    "write_disposition": "merge",
                    "endpoint": {"path": "events", "data_selector": "data", "params": {"limit": page}},
                }
            ],
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = dlt.pipeline(
            pipeline_name="rest_bench",
            destination=dlt.destinations.duckdb(f"{tmp}/rest.duckdb"),
            dataset_name="rest_data",
            pipelines_dir=f"{tmp}/pipelines",
        )
        t = time.perf_counter()
        pipeline.run(source)
        seconds = time.perf_counter() - t
        with pipeline.sql_client() as c:
            rows = c.execute_sql("SELECT count(*) FROM events")[0][0]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": round(seconds, 3), "rows": rows, "rss_mib": round(rss, 1)}))


if __name__ == "__main__":
    main()
