package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.http.Schema;

/** The schemas of Workspace Protection's bodies and answers (docs/device-trust.md). */
final class TrustSchemas {
  static final int MAX_ROTATION_ITEMS = 1000;

  private TrustSchemas() {}

  /**
   * A signed document: canonical JSON text and the Ed25519 signature over its UTF-8 bytes
   * (docs/device-trust.md).
   */
  static final Schema SIGNED =
      Schema.named(
          "SignedPayload",
          Schema.object()
              .required(
                  "payload",
                  Schema.string(1, SignedPayload.MAX_PAYLOAD)
                      .describe(
                          "canonical JSON object as text (DESIGN.md §7); its \"type\" names the document"))
              .required("signature", Schema.hex(64))
              .build());

  static final Schema ENVELOPE =
      Schema.anyObject("a workspace key envelope (canonical JSON object, docs/crypto.md)");
  static final Schema KEY_HEX = Schema.string().describe("public key, lower-case hex");
  static final Schema DEVICE =
      Schema.named(
          "Device",
          Schema.object()
              .required("id", Schema.uuid())
              .required("workspace_id", Schema.uuid())
              .required("account_id", Schema.uuid())
              .required("name", Schema.string())
              .required("kind", Schema.oneOf("cli", "daemon", "browser"))
              .required(
                  "status",
                  Schema.oneOf("pending", "trusted", "revoked", "rejected")
                      .describe("rejected only in the answer to a rejection (the row is deleted)"))
              .required("ed25519_public_key", Schema.hex(32))
              .required("p256_public_key", KEY_HEX)
              .required("request", SIGNED)
              .required("credential", Schema.nullable(SIGNED))
              .required("revocation", Schema.nullable(SIGNED))
              .required("keyset_version", Schema.nullable(Schema.integer(1, Integer.MAX_VALUE)))
              .required("created_at", Schema.time())
              .required("approved_at", Schema.nullable(Schema.time()))
              .required("revoked_at", Schema.nullable(Schema.time()))
              .optional(
                  "webtty_key",
                  Schema.nullable(
                      SIGNED.describe(
                          "umbra-device-webtty-key/v1 signed by the device (docs/device-trust.md, WebTTY keys); null until published")))
              .build());
  static final Schema CHAIN =
      Schema.named(
          "KeysetChain",
          Schema.object()
              .required(
                  "keysets",
                  Schema.array(SIGNED).describe("every keyset (umbra-keyset/v1), oldest first"))
              .required("current_version", Schema.nullable(Schema.integer(1, Integer.MAX_VALUE)))
              .build());
  static final Schema KIT =
      Schema.named(
          "RecoveryKit",
          Schema.object()
              .required("id", Schema.uuid())
              .required("status", Schema.oneOf("pending", "confirmed", "retired"))
              .required("kit", SIGNED)
              .required("created_at", Schema.time())
              .required("confirmed_at", Schema.nullable(Schema.time()))
              .build());
  static final Schema SEALED_ENVELOPE =
      Schema.object()
          .required("keyset_version", Schema.integer(1, Integer.MAX_VALUE))
          .required("envelope", ENVELOPE)
          .build();

  /** POST keyset: the first keyset, its first device's request and credential, an envelope. */
  static Schema createKeyset() {
    return Schema.object()
        .required("keyset", SIGNED.describe("umbra-keyset/v1, version 1, self-signed"))
        .required("request", SIGNED.describe("umbra-device-request/v1 signed by the device"))
        .required(
            "credential", SIGNED.describe("umbra-device-credential/v1 signed by the workspace key"))
        .required("envelope", ENVELOPE)
        .build();
  }

  /** POST rotations: the next keyset, re-wrapped for every remaining device and kit. */
  static Schema rotation() {
    return Schema.object()
        .required(
            "keyset", SIGNED.describe("the next version, signed by the current workspace key"))
        .required(
            "devices",
            Schema.array(
                    Schema.object()
                        .required("device_id", Schema.uuid())
                        .required("credential", SIGNED)
                        .required("envelope", ENVELOPE)
                        .build(),
                    1,
                    MAX_ROTATION_ITEMS)
                .describe("every remaining trusted device, exactly once"))
        .optional(
            "recovery_kits",
            Schema.array(
                    Schema.object()
                        .required("kit_id", Schema.uuid())
                        .required("kit", SIGNED)
                        .required("envelope", ENVELOPE)
                        .build(),
                    0,
                    MAX_ROTATION_ITEMS)
                .describe("kits to keep; others are retired"))
        .build();
  }

  /** The answer of POST machine-trust: the keyset chain, revocations and current credentials. */
  static Schema machineTrust() {
    return Schema.object()
        .required("keysets", Schema.array(SIGNED))
        .required("current_version", Schema.nullable(Schema.integer(1, Integer.MAX_VALUE)))
        .required("revocations", Schema.array(SIGNED).describe("every device revocation"))
        .required(
            "credentials",
            Schema.array(SIGNED).describe("the trusted devices' current credentials"))
        .build();
  }
}
