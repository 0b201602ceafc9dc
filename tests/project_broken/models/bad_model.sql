SELECT no_such_column FROM {{ ref('well_readings') }}
