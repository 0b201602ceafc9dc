-- phlo: materialized = "incremental", unique_key = ["well_code", "production_date"]
-- phlo: group = "wells", tags = ["staging"]
-- Every reported day of every well (all partitions of the ingestion: a correction sent
-- later has replaced its day's row there), with its field and water cut.
SELECT
    p.well_code,
    p.field_code,
    f.field_name,
    f.currency,
    p.production_date,
    p.hours_on,
    p.oil_bbl,
    p.gas_mcf,
    p.water_bbl,
    CASE WHEN p.oil_bbl + p.water_bbl > 0
         THEN p.water_bbl / (p.oil_bbl + p.water_bbl) END AS water_cut,
    p.revision
FROM {{ ref('well_production') }} p
LEFT JOIN {{ ref('fields') }} f ON f.field_code = p.field_code
