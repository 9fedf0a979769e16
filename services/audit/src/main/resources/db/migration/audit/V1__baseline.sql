-- Baseline of the audit schema; tables arrive with the service's features.
COMMENT ON SCHEMA audit IS 'owned by the umbra audit service';
