-- phlo: materialized = "incremental", unique_key = ["well_code", "day"]
-- phlo: partitions = "daily", start = "2025-01-01", group = "wells", tags = ["daily"]
SELECT r.well_code, r.day, r.oil, r.oil * p.price AS revenue
FROM {{ ref('well_readings') }} r
JOIN {{ ref('well_prices') }} p ON p.well_code = r.well_code
