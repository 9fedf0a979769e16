package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.http.Schema;

/**
 * The OpenAPI schemas of the messaging routes (docs/messaging.md), apart from the routes so the
 * document's other parts can change without touching them.
 */
final class MessagingSchemas {
  private MessagingSchemas() {}

  private static final Schema B64 = Schema.base64();

  static final Schema PREKEY_UPLOAD =
      Schema.object()
          .required(
              "identity_key",
              B64.describe(
                  "opaque to the server, 32 to " + PrekeyRoutes.MAX_IDENTITY_KEY + " bytes"))
          .required(
              "signed_prekey",
              B64.describe(
                  "opaque (key + signature), 32 to " + PrekeyRoutes.MAX_SIGNED_PREKEY + " bytes"))
          .required("signed_prekey_id", Schema.integer(0, Integer.MAX_VALUE))
          .required("signed_prekey_expires_at", Schema.time())
          .optional(
              "one_time_prekeys",
              Schema.array(
                      Schema.object()
                          .required("id", Schema.integer(0, Integer.MAX_VALUE))
                          .required("public_key", B64.describe("32 bytes"))
                          .build(),
                      0,
                      PrekeyService.MAX_ONE_TIME_PER_UPLOAD)
                  .describe("added to those stored; an id already stored is kept"))
          .build();

  static final Schema PREKEY_STATUS =
      Schema.named(
          "PrekeyStatus",
          Schema.object()
              .required("one_time_prekeys", Schema.integer(0, PrekeyService.MAX_ONE_TIME_TOTAL))
              .required(
                  "max_one_time_prekeys",
                  Schema.integer(
                      PrekeyService.MAX_ONE_TIME_TOTAL, PrekeyService.MAX_ONE_TIME_TOTAL))
              .required("signed_prekey_id", Schema.nullable(Schema.integer(0, Integer.MAX_VALUE)))
              .required("signed_prekey_expires_at", Schema.nullable(Schema.time()))
              .build());

  static final Schema PREKEY_BUNDLE =
      Schema.named(
          "PrekeyBundle",
          Schema.object()
              .required("principal_id", Schema.uuid())
              .required("principal_kind", Schema.oneOf("device", "agent"))
              .required("identity_key", B64)
              .required("signed_prekey", B64)
              .required("signed_prekey_id", Schema.integer(0, Integer.MAX_VALUE))
              .required("signed_prekey_expires_at", Schema.time())
              .required(
                  "one_time_prekey",
                  Schema.nullable(
                          Schema.object()
                              .required("id", Schema.integer(0, Integer.MAX_VALUE))
                              .required("public_key", B64)
                              .build())
                      .describe("handed out once; null when none is left (X3DH without it)"))
              .build());

  static final Schema CONVERSATION_OPEN =
      Schema.object()
          .optional("agent_id", Schema.uuid().describe("when a member's device opens it"))
          .optional("account_id", Schema.uuid().describe("when an agent opens it"))
          .build();

  static final Schema CONVERSATION =
      Schema.named(
          "Conversation",
          Schema.object()
              .required("id", Schema.uuid())
              .required("account_id", Schema.uuid())
              .required("agent_id", Schema.uuid())
              .required("created_at", Schema.time())
              .build());

  static final Schema RECIPIENTS =
      Schema.object()
          .required(
              "items",
              Schema.array(
                  Schema.object()
                      .required("kind", Schema.oneOf("device", "agent"))
                      .required("id", Schema.uuid())
                      .build()))
          .build();

  static final Schema SEND =
      Schema.object()
          .required("id", Schema.uuid().describe("client-generated; a resend is a no-op"))
          .required("conversation_id", Schema.uuid())
          .required(
              "copies",
              Schema.array(
                  Schema.object()
                      .required("recipient_id", Schema.uuid())
                      .required(
                          "ciphertext",
                          B64.describe("1 to " + MessageRoutes.MAX_CIPHERTEXT + " bytes"))
                      .build(),
                  1,
                  MessageRoutes.MAX_COPIES))
          .build();

  static final Schema SEND_BATCH =
      Schema.object()
          .required(
              "messages",
              Schema.array(
                      Schema.anyValue(
                          "a send as for POST /messages ({id, conversation_id, copies}); one that"
                              + " does not parse is refused alone, in its place of the answer"),
                      1,
                      SendBatch.MAX_MESSAGES)
                  .describe("the body stays under 1 MiB"))
          .build();

  static final Schema SENT_BATCH =
      Schema.object()
          .required(
              "results",
              Schema.array(
                      Schema.object()
                          .required("id", Schema.nullable(Schema.uuid()))
                          .optional("stored", Schema.integer(0, MessageRoutes.MAX_COPIES))
                          .optional("duplicates", Schema.integer(0, MessageRoutes.MAX_COPIES))
                          .optional(
                              "error",
                              Schema.object()
                                  .required("status", Schema.integer(400, 599))
                                  .required("code", Schema.string())
                                  .required("message", Schema.string())
                                  .optional("field", Schema.string())
                                  .build()
                                  .describe("this message refused alone; the others went on"))
                          .build(),
                      1,
                      SendBatch.MAX_MESSAGES)
                  .describe("one per message, in the batch's order"))
          .build();

  static final Schema SENT =
      Schema.object()
          .required("id", Schema.uuid())
          .required("stored", Schema.integer(0, MessageRoutes.MAX_COPIES))
          .required("duplicates", Schema.integer(0, MessageRoutes.MAX_COPIES))
          .build();

  static final Schema MESSAGE =
      Schema.named(
          "Message",
          Schema.object()
              .required("id", Schema.uuid())
              .required("seq", Schema.integer(1, Long.MAX_VALUE))
              .required("conversation_id", Schema.uuid())
              .required("sender_kind", Schema.oneOf("device", "agent"))
              .required("sender_id", Schema.uuid())
              .required("ciphertext", B64)
              .required("created_at", Schema.time())
              .build());

  static final Schema PENDING =
      Schema.object()
          .required("items", Schema.array(MESSAGE))
          .required(
              "next_after",
              Schema.nullable(Schema.integer(1, Long.MAX_VALUE))
                  .describe("pass as ?after= for the next page; null on the last"))
          .build();

  static final Schema ACK =
      Schema.object()
          .required("ids", Schema.array(Schema.uuid(), 1, LiveFrames.MAX_ACK_IDS))
          .build();

  static final Schema ACKED =
      Schema.object().required("deleted", Schema.integer(0, LiveFrames.MAX_ACK_IDS)).build();
}
