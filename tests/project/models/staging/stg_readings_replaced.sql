-- phlo: materialized = "replace_partition", partitions = "daily", start = "2025-01-01"
SELECT well_code, day, oil FROM {{ ref('well_readings') }}
