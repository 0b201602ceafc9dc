-- No well earns less than nothing in a month, in dollars or in its field's currency.
SELECT well_code, production_month, revenue_usd, revenue_local
FROM {{ ref('mart_revenue') }}
WHERE revenue_usd < 0 OR revenue_local < 0
