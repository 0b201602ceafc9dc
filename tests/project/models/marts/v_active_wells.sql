-- phlo: materialized = "view"
SELECT DISTINCT well_code FROM {{ ref('stg_readings') }} WHERE oil > 0
