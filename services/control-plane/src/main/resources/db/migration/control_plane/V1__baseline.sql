-- Baseline of the control_plane schema; tables arrive with the service's features.
COMMENT ON SCHEMA control_plane IS 'owned by the umbra control-plane service';
