SELECT COUNT(*) AS active_wells FROM {{ ref('v_active_wells') }}
