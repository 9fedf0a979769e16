package dev.umbra.crypto.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.testing.Hex;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * {@code double-ratchet.json}: the three KDFs alone, then a scripted conversation (both directions,
 * out-of-order delivery, skipped keys, several DH steps, a tampered message, replays), each step's
 * input and output in hex, and both final states.
 */
public final class DoubleRatchetVectors {
  /** op sender-or-receiver message-id; messages are numbered per sender in encryption order. */
  static final List<String> SCRIPT =
      List.of(
          "encrypt alice a0",
          "encrypt alice a1",
          "encrypt alice a2",
          "decrypt bob a0",
          "decrypt bob a2",
          "encrypt bob b0",
          "encrypt bob b1",
          "decrypt alice b1",
          "decrypt alice b0",
          "encrypt alice a3",
          "encrypt alice a4",
          "decrypt bob a1",
          "decrypt bob a4",
          "decrypt bob a3",
          "encrypt bob b2",
          "decrypt alice b2",
          "encrypt alice a5",
          "tamper-tag bob a5",
          "tamper-header bob a5",
          "decrypt bob a5",
          "replay bob a2",
          "replay bob a5",
          "encrypt bob b3",
          "encrypt bob b4",
          "decrypt alice b4",
          "encrypt alice a6",
          "decrypt bob a6");

  private DoubleRatchetVectors() {}

  public static List<Map<String, Object>> generate(BiFunction<String, Integer, byte[]> seed) {
    VectorKeys keys = new VectorKeys(seed);
    List<Map<String, Object>> out = new ArrayList<>(kdfs(seed));
    out.add(conversation(keys, seed));
    return out;
  }

  private static List<Map<String, Object>> kdfs(BiFunction<String, Integer, byte[]> seed) {
    byte[] rk = seed.apply("dr-kdf/rk", 32);
    byte[] dh = seed.apply("dr-kdf/dh", 32);
    byte[] ck = seed.apply("dr-kdf/ck", 32);
    byte[] mk = seed.apply("dr-kdf/mk", 32);
    byte[][] root = RatchetKdf.root(rk, dh);
    byte[][] chain = RatchetKdf.chain(ck);
    byte[][] message = RatchetKdf.messageKeys(mk);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("kind", "kdf_rk");
    r.put("rk", Hex.e(rk));
    r.put("dh_out", Hex.e(dh));
    r.put("new_rk", Hex.e(root[0]));
    r.put("ck", Hex.e(root[1]));
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("kind", "kdf_ck");
    c.put("ck", Hex.e(ck));
    c.put("new_ck", Hex.e(chain[0]));
    c.put("mk", Hex.e(chain[1]));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("kind", "message_key");
    m.put("mk", Hex.e(mk));
    m.put("aead_key", Hex.e(message[0]));
    m.put("nonce", Hex.e(message[1]));
    return List.of(r, c, m);
  }

  private static Map<String, Object> conversation(
      VectorKeys keys, BiFunction<String, Integer, byte[]> seed) {
    IdentityKeyPair alice = keys.identity("dr/alice");
    IdentityKeyPair bob = keys.identity("dr/bob");
    SessionAd ad = SessionAd.of(alice.publicIdentity(), bob.publicIdentity());
    RootSecret sk = RootSecret.fromBytes(seed.apply("dr/sk", 32));
    X25519KeyPair bobSpk = keys.x25519("dr/bob-spk");
    VectorKeys.Drawn aliceKeys = keys.drawn("dr/alice-ratchet");
    VectorKeys.Drawn bobKeys = keys.drawn("dr/bob-ratchet");
    Map<String, RatchetSession> s =
        Map.of(
            "alice",
                RatchetSession.initiator(sk, ad, bobSpk.publicKey(), VectorKeys.options(aliceKeys)),
            "bob", RatchetSession.responder(sk, ad, bobSpk, VectorKeys.options(bobKeys)));
    Map<String, byte[]> sent = new HashMap<>();
    List<Map<String, Object>> steps = new ArrayList<>();
    for (String line : SCRIPT) {
      String[] p = line.split(" ");
      RatchetSession session = s.get(p[1]);
      Map<String, Object> step = new LinkedHashMap<>();
      step.put("op", p[0]);
      step.put(p[0].equals("encrypt") ? "sender" : "receiver", p[1]);
      step.put("id", p[2]);
      if (p[0].equals("encrypt")) {
        byte[] plaintext = plaintext(p[2]);
        RatchetMessage m = session.encrypt(plaintext);
        sent.put(p[2], m.encode());
        step.put("plaintext", Hex.e(plaintext));
        step.put("dh", m.header().dh().toHex());
        step.put("pn", m.header().pn());
        step.put("n", m.header().n());
        step.put("message", Hex.e(m.encode()));
      } else {
        byte[] m = mutate(p[0], sent.get(p[2]));
        step.put("message", Hex.e(m));
        try {
          step.put("plaintext", Hex.e(session.decrypt(m)));
        } catch (MessageRefusedException e) {
          step.put("refusal", e.reason().name());
        }
      }
      steps.add(step);
    }
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("kind", "conversation");
    v.put("now", VectorKeys.NOW.getEpochSecond());
    v.put("sk", Hex.e(sk.exportSecretBytes()));
    v.put("ad", ad.toHex());
    v.put("bob_signed_prekey_private", Hex.e(bobSpk.privateKey().exportPrivateBytes()));
    v.put("bob_signed_prekey_public", bobSpk.publicKey().toHex());
    v.put("alice_ratchet_keys", aliceKeys.privates);
    v.put("bob_ratchet_keys", bobKeys.privates);
    v.put("steps", steps);
    v.put("alice_final_state", Hex.e(s.get("alice").toBytes()));
    v.put("bob_final_state", Hex.e(s.get("bob").toBytes()));
    return v;
  }

  static byte[] plaintext(String id) {
    return id.equals("a3") ? new byte[0] : ("message " + id).getBytes(StandardCharsets.UTF_8);
  }

  /** tamper-tag flips the last byte (the tag), tamper-header the low byte of pn (byte 36). */
  static byte[] mutate(String op, byte[] m) {
    byte[] out = m.clone();
    switch (op) {
      case "tamper-tag" -> out[out.length - 1] ^= 0x01;
      case "tamper-header" -> out[36] ^= 0x01;
      default -> {}
    }
    return out;
  }

  /** Replays one vector; returns what did not match (empty when it conforms). */
  public static List<String> replay(JsonNode v) {
    List<String> f = new ArrayList<>();
    switch (v.get("kind").asText()) {
      case "kdf_rk" -> {
        byte[][] r = RatchetKdf.root(Hex.d(v.get("rk").asText()), Hex.d(v.get("dh_out").asText()));
        X3dhVectors.check(f, "kdf_rk new_rk", Hex.e(r[0]), v, "new_rk");
        X3dhVectors.check(f, "kdf_rk ck", Hex.e(r[1]), v, "ck");
      }
      case "kdf_ck" -> {
        byte[][] c = RatchetKdf.chain(Hex.d(v.get("ck").asText()));
        X3dhVectors.check(f, "kdf_ck new_ck", Hex.e(c[0]), v, "new_ck");
        X3dhVectors.check(f, "kdf_ck mk", Hex.e(c[1]), v, "mk");
      }
      case "message_key" -> {
        byte[][] m = RatchetKdf.messageKeys(Hex.d(v.get("mk").asText()));
        X3dhVectors.check(f, "message key", Hex.e(m[0]), v, "aead_key");
        X3dhVectors.check(f, "message nonce", Hex.e(m[1]), v, "nonce");
      }
      case "conversation" -> f.addAll(replayConversation(v));
      default -> f.add("unknown kind " + v.get("kind"));
    }
    return f;
  }

  private static List<String> replayConversation(JsonNode v) {
    List<String> f = new ArrayList<>();
    RootSecret sk = RootSecret.fromBytes(Hex.d(v.get("sk").asText()));
    SessionAd ad =
        SessionAd.of(
            PublicIdentity.read(
                Wire.of(java.util.Arrays.copyOf(Hex.d(v.get("ad").asText()), 64), "ad")),
            PublicIdentity.read(
                Wire.of(java.util.Arrays.copyOfRange(Hex.d(v.get("ad").asText()), 64, 128), "ad")));
    X25519KeyPair bobSpk = X3dhVectors.pair(v, "bob_signed_prekey");
    Map<String, RatchetSession> s =
        Map.of(
            "alice",
                RatchetSession.initiator(
                    sk,
                    ad,
                    bobSpk.publicKey(),
                    VectorKeys.options(VectorKeys.replaying(strings(v.get("alice_ratchet_keys"))))),
            "bob",
                RatchetSession.responder(
                    sk,
                    ad,
                    bobSpk,
                    VectorKeys.options(VectorKeys.replaying(strings(v.get("bob_ratchet_keys"))))));
    for (JsonNode step : v.get("steps")) {
      String op = step.get("op").asText();
      String id = step.get("id").asText();
      if (op.equals("encrypt")) {
        RatchetMessage m =
            s.get(step.get("sender").asText()).encrypt(Hex.d(step.get("plaintext").asText()));
        X3dhVectors.check(f, "encrypt " + id, Hex.e(m.encode()), step, "message");
        continue;
      }
      RatchetSession session = s.get(step.get("receiver").asText());
      byte[] before = session.toBytes();
      try {
        byte[] plaintext = session.decrypt(Hex.d(step.get("message").asText()));
        if (step.has("refusal")) {
          f.add(op + " " + id + " opened but must be refused " + step.get("refusal").asText());
        } else {
          X3dhVectors.check(f, op + " " + id, Hex.e(plaintext), step, "plaintext");
        }
      } catch (MessageRefusedException e) {
        if (!step.has("refusal") || !e.reason().name().equals(step.get("refusal").asText())) {
          f.add(
              op
                  + " "
                  + id
                  + " refused "
                  + e.reason()
                  + ", expected "
                  + step.path("refusal").asText("to open"));
        }
        if (!java.util.Arrays.equals(before, session.toBytes())) {
          f.add(op + " " + id + " was refused but changed the state");
        }
      }
    }
    X3dhVectors.check(
        f, "alice final state", Hex.e(s.get("alice").toBytes()), v, "alice_final_state");
    X3dhVectors.check(f, "bob final state", Hex.e(s.get("bob").toBytes()), v, "bob_final_state");
    return f;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
