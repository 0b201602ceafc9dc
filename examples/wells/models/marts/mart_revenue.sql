-- phlo: materialized = "table", group = "wells", tags = ["mart"]
-- Revenue per well and month: oil and gas at the month's prices (USD), converted at the
-- month's rate into the field's currency (both to the cent).
SELECT
    m.well_code,
    m.field_code,
    m.production_month,
    m.oil_bbl,
    m.gas_mcf,
    p.price_month,
    p.oil_usd_per_bbl,
    p.gas_usd_per_mcf,
    ROUND(m.oil_bbl * p.oil_usd_per_bbl + m.gas_mcf * p.gas_usd_per_mcf, 2) AS revenue_usd,
    m.currency,
    r.usd_to_local,
    ROUND((m.oil_bbl * p.oil_usd_per_bbl + m.gas_mcf * p.gas_usd_per_mcf) * r.usd_to_local, 2)
        AS revenue_local
FROM {{ ref('mart_production_monthly') }} m
LEFT JOIN {{ ref('prices') }} p ON p.price_month = m.production_month
LEFT JOIN {{ ref('currency_rates') }} r
    ON r.rate_month = m.production_month AND r.currency = m.currency
