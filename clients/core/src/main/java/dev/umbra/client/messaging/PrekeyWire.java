package dev.umbra.client.messaging;

import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.messaging.OneTimePrekey;
import dev.umbra.crypto.messaging.PrekeyBundle;
import dev.umbra.crypto.messaging.SignedPrekey;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Between the crypto's prekey bundle encoding (docs/messaging-crypto.md) and the control plane's
 * JSON (docs/messaging.md): {@code identity_key} is the bundle's {@code PublicIdentity || binding
 * sig} (128 bytes), {@code signed_prekey} its {@code u32 id || u64 created || u64 expires || public
 * (32) || sig (64)} (116 bytes); the server's one-time prekey is spliced back as the bundle's
 * optional tail. Nothing here is trusted: the rebuilt bytes go through {@code PrekeyBundle.verify}.
 */
public final class PrekeyWire {
  static final int IDENTITY_LENGTH = 128;
  static final int SIGNED_PREKEY_LENGTH = 116;

  private PrekeyWire() {}

  /** The upload body for {@code bundle} (made without a one-time prekey) and {@code opks}. */
  public static JsonObject upload(PrekeyBundle bundle, SignedPrekey spk, List<OneTimePrekey> opks) {
    byte[] b = bundle.encode();
    if (b.length != PrekeyBundle.LENGTH_WITHOUT_ONE_TIME_PREKEY) {
      throw new IllegalArgumentException("the uploaded bundle must not carry a one-time prekey");
    }
    JsonArray list = new JsonArray();
    for (OneTimePrekey o : opks) {
      list.add(
          new JsonObject()
              .put("id", o.id())
              .put("public_key", b64(o.keyPair().publicKey().toBytes())));
    }
    return new JsonObject()
        .put("identity_key", b64(Arrays.copyOfRange(b, 1, 1 + IDENTITY_LENGTH)))
        .put(
            "signed_prekey",
            b64(
                Arrays.copyOfRange(
                    b, 1 + IDENTITY_LENGTH, 1 + IDENTITY_LENGTH + SIGNED_PREKEY_LENGTH)))
        .put("signed_prekey_id", spk.id())
        .put("signed_prekey_expires_at", spk.expiresAt().toString())
        .put("one_time_prekeys", list);
  }

  /** The bundle bytes the server's answer describes (still to be verified against a pin). */
  public static byte[] bundle(JsonObject answer) {
    byte[] identity = field(answer, "identity_key", IDENTITY_LENGTH);
    byte[] spk = field(answer, "signed_prekey", SIGNED_PREKEY_LENGTH);
    Object o = answer.getValue("one_time_prekey");
    ByteBuffer out =
        ByteBuffer.allocate(
            o == null
                ? PrekeyBundle.LENGTH_WITHOUT_ONE_TIME_PREKEY
                : PrekeyBundle.LENGTH_WITH_ONE_TIME_PREKEY);
    out.put((byte) 1).put(identity).put(spk);
    if (o == null) {
      out.put((byte) 0);
    } else if (o instanceof JsonObject opk && opk.getValue("id") instanceof Number id) {
      long v = id.longValue();
      if (v < 0 || v > 0xFFFF_FFFFL || id.doubleValue() != v) {
        throw new MalformedInputException("one_time_prekey.id out of range");
      }
      out.put((byte) 1).putInt((int) v).put(field(opk, "public_key", 32));
    } else {
      throw new MalformedInputException("one_time_prekey must be an object with an id");
    }
    return out.array();
  }

  /** When the signed prekey the server holds for us expires (null: none). */
  public static Instant expiresAt(JsonObject status) {
    String s = status.getString("signed_prekey_expires_at");
    return s == null ? null : Instant.parse(s);
  }

  private static byte[] field(JsonObject j, String name, int length) {
    Object v = j.getValue(name);
    if (!(v instanceof String s)) {
      throw new MalformedInputException(name + " must be base64");
    }
    byte[] b;
    try {
      b = Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw new MalformedInputException(name + " is not base64");
    }
    if (b.length != length) {
      throw new MalformedInputException(name + " must be " + length + " bytes");
    }
    return b;
  }

  static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }
}
