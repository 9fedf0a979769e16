-- Baseline of the webtty schema; tables arrive with the service's features.
COMMENT ON SCHEMA webtty IS 'owned by the umbra webtty-engine service';
