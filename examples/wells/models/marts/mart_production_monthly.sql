-- phlo: materialized = "table", group = "wells", tags = ["mart"]
-- Volumes per well and calendar month (to 0.1 bbl or mcf, as reported); `days_reported`
-- shows a missing day.
SELECT
    well_code,
    field_code,
    currency,
    CAST(date_trunc('month', production_date) AS DATE) AS production_month,
    COUNT(*) AS days_reported,
    ROUND(SUM(oil_bbl), 1) AS oil_bbl,
    ROUND(SUM(gas_mcf), 1) AS gas_mcf,
    ROUND(SUM(water_bbl), 1) AS water_bbl,
    ROUND(MAX(cum_oil_bbl), 1) AS cum_oil_bbl,
    ROUND(AVG(oil_bbl), 1) AS avg_oil_bbl_d
FROM {{ ref('int_moving_averages') }}
GROUP BY well_code, field_code, currency, CAST(date_trunc('month', production_date) AS DATE)
