-- phlo: group = "wells", tags = ["mart"]
SELECT well_code, SUM(oil) AS total_oil, SUM(revenue) AS total_revenue, COUNT(*) AS days
FROM {{ ref('stg_readings') }}
GROUP BY well_code
