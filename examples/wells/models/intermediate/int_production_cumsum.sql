-- phlo: materialized = "table", group = "wells", tags = ["intermediate"]
-- Cumulative volumes per well, in day order; `days_on` counts reported days (a missing
-- day is not counted, a shut-in day is).
SELECT
    well_code,
    field_code,
    currency,
    production_date,
    hours_on,
    oil_bbl,
    gas_mcf,
    water_bbl,
    water_cut,
    revision,
    CAST(ROW_NUMBER() OVER w AS BIGINT) AS days_on,
    SUM(oil_bbl) OVER w AS cum_oil_bbl,
    SUM(gas_mcf) OVER w AS cum_gas_mcf,
    SUM(water_bbl) OVER w AS cum_water_bbl
FROM {{ ref('stg_well_production') }}
WINDOW w AS (PARTITION BY well_code ORDER BY production_date
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
