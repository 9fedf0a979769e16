package dev.umbra.crypto.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.testing.Hex;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * {@code x3dh.json}: written by the conformance generator, replayed by ConformanceVectorsTest the
 * way another implementation would (conformance/README.md).
 */
public final class X3dhVectors {
  private X3dhVectors() {}

  public static List<Map<String, Object>> generate(BiFunction<String, Integer, byte[]> seed) {
    VectorKeys keys = new VectorKeys(seed);
    return List.of(vector(keys, "x3dh-1", true), vector(keys, "x3dh-2", false));
  }

  private static Map<String, Object> vector(VectorKeys keys, String label, boolean withOpk) {
    IdentityKeyPair alice = keys.identity(label + "/alice");
    IdentityKeyPair bob = keys.identity(label + "/bob");
    Instant created = VectorKeys.NOW.minus(Duration.ofDays(1));
    SignedPrekey spk =
        new SignedPrekey(7, keys.x25519(label + "/spk"), created, created.plus(Duration.ofDays(7)));
    OneTimePrekey opk = withOpk ? new OneTimePrekey(1001, keys.x25519(label + "/opk")) : null;
    byte[] bundle = PrekeyBundle.create(bob, spk, opk == null ? null : opk.publicPart()).encode();
    VerifiedPrekeyBundle verified =
        PrekeyBundle.verify(bundle, bob.signing().publicKey(), VectorKeys.CLOCK);
    VectorKeys.Drawn aliceKeys = keys.drawn(label + "/alice-keys");
    byte[] first =
        ("hello bob, from alice (" + label + ")").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    X3dh.Initiated init = X3dh.initiate(alice, verified, first, VectorKeys.options(aliceKeys));
    X25519KeyPair ek = keys.drawn(label + "/alice-keys").get();
    X3dh.Agreement a = X3dh.agreeAsInitiator(alice, verified, ek);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put(
        "name",
        label
            + (withOpk
                ? ": four DH with a one-time prekey"
                : ": three DH, no one-time prekey left"));
    v.put("now", VectorKeys.NOW.getEpochSecond());
    identity(v, "alice", alice);
    identity(v, "bob", bob);
    v.put("bob_signed_prekey_id", spk.id());
    v.put("bob_signed_prekey_created_at", spk.createdAt().getEpochSecond());
    v.put("bob_signed_prekey_expires_at", spk.expiresAt().getEpochSecond());
    v.put("bob_signed_prekey_private", priv(spk.keyPair()));
    v.put("bob_signed_prekey_public", spk.keyPair().publicKey().toHex());
    v.put("bob_signed_prekey_signed_payload", Hex.e(spk.signedPayload(bob.publicIdentity())));
    v.put("bob_signed_prekey_signature", Hex.e(spk.sign(bob)));
    if (opk != null) {
      v.put("bob_one_time_prekey_id", opk.id());
      v.put("bob_one_time_prekey_private", priv(opk.keyPair()));
      v.put("bob_one_time_prekey_public", opk.keyPair().publicKey().toHex());
    }
    v.put("bundle", Hex.e(bundle));
    v.put("alice_ephemeral_private", priv(ek));
    v.put("alice_ephemeral_public", ek.publicKey().toHex());
    v.put("dh1", Hex.e(alice.dh().privateKey().agree(spk.keyPair().publicKey())));
    v.put("dh2", Hex.e(ek.privateKey().agree(bob.dh().publicKey())));
    v.put("dh3", Hex.e(ek.privateKey().agree(spk.keyPair().publicKey())));
    if (opk != null) {
      v.put("dh4", Hex.e(ek.privateKey().agree(opk.keyPair().publicKey())));
    }
    v.put("sk", Hex.e(a.sharedSecret().exportSecretBytes()));
    v.put("ad", a.ad().toHex());
    v.put("alice_first_ratchet_private", aliceKeys.privates.get(1));
    v.put("first_plaintext", Hex.e(first));
    v.put("initial_message", Hex.e(init.initialMessage().encode()));
    return v;
  }

  private static void identity(Map<String, Object> v, String who, IdentityKeyPair id) {
    v.put(who + "_identity_ed25519_private", Hex.e(id.signing().privateKey().exportPrivateBytes()));
    v.put(who + "_identity_ed25519_public", id.signing().publicKey().toHex());
    v.put(who + "_identity_x25519_private", priv(id.dh()));
    v.put(who + "_identity_x25519_public", id.dh().publicKey().toHex());
    v.put(who + "_identity_binding_signature", Hex.e(id.bindingSignature()));
  }

  private static String priv(X25519KeyPair k) {
    return Hex.e(k.privateKey().exportPrivateBytes());
  }

  /** Replays one vector; returns what did not match (empty when it conforms). */
  public static List<String> replay(JsonNode v) {
    List<String> f = new ArrayList<>();
    String name = v.get("name").asText();
    IdentityKeyPair alice = identity(v, "alice", f);
    IdentityKeyPair bob = identity(v, "bob", f);
    X25519KeyPair spkPair = pair(v, "bob_signed_prekey");
    SignedPrekey spk =
        new SignedPrekey(
            v.get("bob_signed_prekey_id").asLong(),
            spkPair,
            Instant.ofEpochSecond(v.get("bob_signed_prekey_created_at").asLong()),
            Instant.ofEpochSecond(v.get("bob_signed_prekey_expires_at").asLong()));
    String payload = Hex.e(spk.signedPayload(bob.publicIdentity()));
    check(f, name + " spk payload", payload, v, "bob_signed_prekey_signed_payload");
    check(f, name + " spk signature", Hex.e(spk.sign(bob)), v, "bob_signed_prekey_signature");
    OneTimePrekey opk =
        v.has("bob_one_time_prekey_id")
            ? new OneTimePrekey(
                v.get("bob_one_time_prekey_id").asLong(), pair(v, "bob_one_time_prekey"))
            : null;
    check(
        f,
        name + " bundle",
        Hex.e(PrekeyBundle.create(bob, spk, opk == null ? null : opk.publicPart()).encode()),
        v,
        "bundle");
    VerifiedPrekeyBundle verified =
        PrekeyBundle.verify(
            Hex.d(v.get("bundle").asText()),
            bob.signing().publicKey(),
            java.time.Clock.fixed(
                Instant.ofEpochSecond(v.get("now").asLong()), java.time.ZoneOffset.UTC));
    X25519KeyPair ek = pair(v, "alice_ephemeral");
    byte[] km = concatDh(v, opk != null);
    check(f, name + " sk from dh1..dh4", Hex.e(RatchetKdf.x3dh(km)), v, "sk");
    X3dh.Agreement a = X3dh.agreeAsInitiator(alice, verified, ek);
    X3dh.Agreement b = X3dh.agreeAsResponder(bob, alice.publicIdentity(), ek.publicKey(), spk, opk);
    check(f, name + " initiator sk", Hex.e(a.sharedSecret().exportSecretBytes()), v, "sk");
    check(f, name + " responder sk", Hex.e(b.sharedSecret().exportSecretBytes()), v, "sk");
    check(f, name + " ad", b.ad().toHex(), v, "ad");
    VectorKeys.Drawn aliceKeys =
        VectorKeys.replaying(
            List.of(
                v.get("alice_ephemeral_private").asText(),
                v.get("alice_first_ratchet_private").asText()));
    byte[] first = Hex.d(v.get("first_plaintext").asText());
    X3dh.Initiated init = X3dh.initiate(alice, verified, first, VectorKeys.options(aliceKeys));
    check(
        f, name + " initial message", Hex.e(init.initialMessage().encode()), v, "initial_message");
    InMemoryPrekeySecrets secrets = new InMemoryPrekeySecrets().addSignedPrekey(spk);
    if (opk != null) {
      secrets.addOneTimePrekey(opk);
    }
    X3dh.Responded r =
        X3dh.respond(
            bob,
            secrets,
            InitialMessage.parse(Hex.d(v.get("initial_message").asText())),
            alice.signing().publicKey(),
            VectorKeys.options(X25519KeyPair::generate));
    check(f, name + " first plaintext", Hex.e(r.plaintext()), v, "first_plaintext");
    return f;
  }

  private static byte[] concatDh(JsonNode v, boolean four) {
    List<byte[]> parts = new ArrayList<>();
    for (String k : four ? List.of("dh1", "dh2", "dh3", "dh4") : List.of("dh1", "dh2", "dh3")) {
      parts.add(Hex.d(v.get(k).asText()));
    }
    return dev.umbra.crypto.internal.Bytes.concat(parts.toArray(new byte[0][]));
  }

  private static IdentityKeyPair identity(JsonNode v, String who, List<String> f) {
    IdentityKeyPair id =
        new IdentityKeyPair(
            dev.umbra.crypto.keys.Ed25519KeyPair.fromPrivateKey(
                dev.umbra.crypto.keys.Ed25519PrivateKey.fromBytes(
                    Hex.d(v.get(who + "_identity_ed25519_private").asText()))),
            pair(v, who + "_identity_x25519"));
    check(
        f,
        who + " ed25519 public",
        id.signing().publicKey().toHex(),
        v,
        who + "_identity_ed25519_public");
    check(
        f,
        who + " binding signature",
        Hex.e(id.bindingSignature()),
        v,
        who + "_identity_binding_signature");
    id.publicIdentity().verifyBinding(Hex.d(v.get(who + "_identity_binding_signature").asText()));
    return id;
  }

  static X25519KeyPair pair(JsonNode v, String prefix) {
    X25519KeyPair k =
        X25519KeyPair.fromPrivateKey(
            X25519PrivateKey.fromBytes(Hex.d(v.get(prefix + "_private").asText())));
    if (v.has(prefix + "_public")
        && !k.publicKey().toHex().equals(v.get(prefix + "_public").asText())) {
      throw new AssertionError(prefix + "_public does not match its private key");
    }
    return k;
  }

  static void check(List<String> f, String what, String actual, JsonNode v, String field) {
    if (!Objects.equals(actual, v.get(field).asText())) {
      f.add(what + ": expected " + v.get(field).asText() + ", got " + actual);
    }
  }
}
