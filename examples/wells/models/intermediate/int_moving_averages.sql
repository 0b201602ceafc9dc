-- phlo: materialized = "table", group = "wells", tags = ["intermediate"]
-- 30-day moving averages per well over the calendar days [day - 29, day]: a missing day
-- shrinks the window (`days_in_window`) instead of borrowing a day from further back.
SELECT
    well_code,
    field_code,
    currency,
    production_date,
    oil_bbl,
    gas_mcf,
    water_bbl,
    cum_oil_bbl,
    cum_gas_mcf,
    cum_water_bbl,
    COUNT(*) OVER w AS days_in_window,
    AVG(oil_bbl) OVER w AS oil_ma_30d,
    AVG(gas_mcf) OVER w AS gas_ma_30d,
    AVG(water_bbl) OVER w AS water_ma_30d
FROM {{ ref('int_production_cumsum') }}
WINDOW w AS (PARTITION BY well_code ORDER BY production_date
             RANGE BETWEEN INTERVAL '29' DAY PRECEDING AND CURRENT ROW)
