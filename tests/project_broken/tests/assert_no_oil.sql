-- Fails on purpose: every reading has oil.
SELECT well_code, oil FROM {{ ref('good_branch') }} WHERE oil >= 0 ORDER BY well_code
