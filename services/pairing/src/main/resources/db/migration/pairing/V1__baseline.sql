-- Baseline of the pairing schema; tables arrive with the service's features.
COMMENT ON SCHEMA pairing IS 'owned by the umbra pairing service';
