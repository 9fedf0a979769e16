-- WebTTY payload format v2 (docs/webtty.md, issue 14): every sealed payload carries its sender's
-- key id and counter (bound into the AAD; an export checks them to report missing or repeated
-- events); a resize carries its size sealed under the input key too; kind 4 is a control
-- handover's daemon-signed input key grant (public: HPKE-wrapped keys and an Ed25519 signature).
ALTER TABLE events ADD COLUMN sender_key_id bytea;
ALTER TABLE events ADD COLUMN counter bigint;
-- INPUT_KEY: the SignedMessage protobuf (canonical JSON and signature)
ALTER TABLE events ADD COLUMN signed bytea;
