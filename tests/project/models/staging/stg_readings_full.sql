-- phlo: materialized = "table", group = "wells"
-- The same rows as stg_readings, rebuilt whole: the incremental-equals-full law.
SELECT r.well_code, r.day, r.oil, r.oil * p.price AS revenue
FROM {{ ref('well_readings') }} r
JOIN {{ ref('well_prices') }} p ON p.well_code = r.well_code
