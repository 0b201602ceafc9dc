SELECT well_code, SUM(oil) AS oil FROM {{ ref('well_readings') }} GROUP BY well_code
