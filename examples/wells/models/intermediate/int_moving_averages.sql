-- phlo: materialized = "table", group = "wells", tags = ["intermediate"]
-- 30-day moving averages per well over the calendar days [day - 29, day]: a missing day
-- shrinks the window (`days_in_window`) instead of borrowing a day from further back.
-- Beside the measured oil, the well's decline curve (int_decline_curves) at that day and
-- its own 30-day average, so the two can be compared on one scale.
WITH days AS (
    SELECT
        c.*,
        CAST(c.production_date - d.first_date AS DOUBLE) AS t,
        d.model,
        d.qi_bbl_d,
        d.di_per_day,
        d.b
    FROM {{ ref('int_production_cumsum') }} c
    LEFT JOIN {{ ref('int_decline_curves') }} d ON d.well_code = c.well_code
),
fitted AS (
    SELECT
        *,
        CASE model
            WHEN 'exponential' THEN qi_bbl_d * exp(-di_per_day * t)
            WHEN 'hyperbolic' THEN qi_bbl_d / power(1 + b * di_per_day * t, 1 / b)
        END AS oil_fitted_bbl_d
    FROM days
)
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
    oil_fitted_bbl_d,
    COUNT(*) OVER w AS days_in_window,
    AVG(oil_bbl) OVER w AS oil_ma_30d,
    AVG(gas_mcf) OVER w AS gas_ma_30d,
    AVG(water_bbl) OVER w AS water_ma_30d,
    AVG(oil_fitted_bbl_d) OVER w AS oil_fitted_ma_30d
FROM fitted
WINDOW w AS (PARTITION BY well_code ORDER BY production_date
             RANGE BETWEEN INTERVAL '29' DAY PRECEDING AND CURRENT ROW)
