-- phlo: materialized = "table", group = "wells", tags = ["mart"]
-- Volumes per well and calendar year, from the monthly mart.
SELECT
    well_code,
    field_code,
    CAST(date_part('year', production_month) AS BIGINT) AS production_year,
    COUNT(*) AS months_reported,
    SUM(days_reported) AS days_reported,
    ROUND(SUM(oil_bbl), 1) AS oil_bbl,
    ROUND(SUM(gas_mcf), 1) AS gas_mcf,
    ROUND(SUM(water_bbl), 1) AS water_bbl
FROM {{ ref('mart_production_monthly') }}
GROUP BY well_code, field_code, CAST(date_part('year', production_month) AS BIGINT)
