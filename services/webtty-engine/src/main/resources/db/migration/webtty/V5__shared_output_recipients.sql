-- umbra tty share (docs/webtty.md, "Adding a recipient to a live session"): the key ids of the
-- current output key's recipients after the latest share (lowercase hex, sorted), so the live
-- session list (GET /v1/webtty/sessions, umbra tty sessions) shows a device added mid-session as
-- granted. NULL until a share: the stored header's grants (epoch 0) then. Public metadata only.
ALTER TABLE sessions ADD COLUMN output_recipients text[];
