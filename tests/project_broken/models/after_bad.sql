SELECT * FROM {{ ref('bad_model') }}
