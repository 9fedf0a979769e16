-- A device's WebTTY X25519 key (docs/device-trust.md, "WebTTY keys"): a umbra-device-webtty-key/v1
-- document signed by the device's own Ed25519 key, so an opener can grant a session's output key
-- to teammates' trusted devices without raw keys passed around. The control plane checks the
-- signature as a second line; openers and daemons verify it against the device's credential.
ALTER TABLE devices ADD COLUMN webtty_key_payload text;
ALTER TABLE devices ADD COLUMN webtty_key_signature bytea CHECK (length(webtty_key_signature) = 64);
ALTER TABLE devices ADD CONSTRAINT devices_webtty_key_pair CHECK ((webtty_key_payload IS NULL) = (webtty_key_signature IS NULL));
