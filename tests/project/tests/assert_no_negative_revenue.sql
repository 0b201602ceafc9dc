SELECT * FROM {{ ref('stg_readings') }} WHERE revenue < 0
