package dev.umbra.crypto.conformance;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.kdf.HkdfSha256;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PrivateKey;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.messaging.DoubleRatchetVectors;
import dev.umbra.crypto.messaging.X3dhVectors;
import dev.umbra.crypto.noise.HandshakeState;
import dev.umbra.crypto.noise.NoiseProtocol;
import dev.umbra.crypto.noise.RelayPrologue;
import dev.umbra.crypto.noise.TransportPair;
import dev.umbra.crypto.testing.Hex;
import dev.umbra.crypto.webtty.InputKeyGrant;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.OutputKeyEpoch;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadCounters;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.SealedPayload;
import dev.umbra.crypto.webtty.Stream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes Umbra's conformance vectors (DESIGN.md §5) to {@code shared/crypto/conformance/}. Every
 * key, nonce and ephemeral value comes from HKDF-SHA256 over a fixed seed and a label, so a run
 * always produces byte-identical files; {@code ConformanceVectorsTest} checks that the committed
 * files equal a fresh run and replays them.
 *
 * <p>Run: {@code ./mvnw -pl shared/crypto test-compile exec:java} (writes the files), or {@code
 * ./mvnw -pl shared/crypto test -Dtest=ConformanceVectorsTest -Dumbra.conformance.write=true}.
 */
public final class ConformanceVectorGenerator {
  /**
   * v1 {@code webtty-grant.json} and {@code webtty-payload.json} are retired (README): v1 is
   * refused.
   */
  static final List<String> FILES =
      List.of(
          "noise.json",
          "webtty-key-id.json",
          "webtty-grant-v2.json",
          "webtty-payload-v2.json",
          "webtty-counters-v2.json",
          "webtty-input-key-grant-v2.json",
          "webtty-output-key-epoch-v2.json",
          "canonical-json.json",
          "webtty-policy.json",
          "device-webtty-key.json",
          "device-trust.json",
          "x3dh.json",
          "double-ratchet.json",
          "workflow.json",
          "relay-mesh-proof.json",
          "bus-notice.json",
          "relay-client-auth.json");

  private static final byte[] SEED = "umbra-conformance-seed/v1".getBytes(StandardCharsets.UTF_8);

  private ConformanceVectorGenerator() {}

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : "shared/crypto/conformance");
    Files.createDirectories(dir);
    for (Map.Entry<String, String> file : generate().entrySet()) {
      Files.writeString(dir.resolve(file.getKey()), file.getValue());
      System.out.println("wrote " + dir.resolve(file.getKey()));
    }
  }

  /** File name to exact file content. */
  static Map<String, String> generate() {
    Map<String, String> out = new TreeMap<>();
    out.put("noise.json", write(noise()));
    out.put("webtty-key-id.json", write(keyIds()));
    out.put("webtty-grant-v2.json", write(grants()));
    out.put("webtty-payload-v2.json", write(payloads()));
    out.put("webtty-counters-v2.json", write(counters()));
    out.put("webtty-input-key-grant-v2.json", write(inputKeyGrants()));
    out.put("webtty-output-key-epoch-v2.json", write(outputKeyEpochs()));
    out.put("canonical-json.json", write(canonicalJson()));
    out.put("webtty-policy.json", write(policies()));
    out.put("device-webtty-key.json", write(deviceWebTtyKeys()));
    out.put(
        "device-trust.json", write(DeviceTrustVectors.generate(ConformanceVectorGenerator::uuid)));
    out.put("x3dh.json", write(X3dhVectors.generate(ConformanceVectorGenerator::bytes)));
    out.put(
        "double-ratchet.json",
        write(DoubleRatchetVectors.generate(ConformanceVectorGenerator::bytes)));
    out.put(
        "workflow.json",
        write(
            dev.umbra.crypto.workflow.WorkflowVectors.generate(
                ConformanceVectorGenerator::uuid, ConformanceVectorGenerator::bytes)));
    out.put("relay-mesh-proof.json", write(RelayMeshProofVectors.generate()));
    out.put("bus-notice.json", write(BusNoticeVectors.generate()));
    out.put("relay-client-auth.json", write(RelayClientAuthVectors.generate()));
    return out;
  }

  /** Deterministic bytes for {@code label}. */
  static byte[] bytes(String label, int length) {
    return HkdfSha256.derive(SEED, null, label.getBytes(StandardCharsets.UTF_8), length);
  }

  static X25519KeyPair x25519(String label) {
    return X25519KeyPair.fromPrivateKey(X25519PrivateKey.fromBytes(bytes(label, 32)));
  }

  private static String write(List<Map<String, Object>> vectors) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("vectors", vectors);
    DefaultPrettyPrinter printer =
        new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"));
    try {
      return new ObjectMapper().writer(printer).writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- noise.json ----

  private static List<Map<String, Object>> noise() {
    List<Map<String, Object>> list = new ArrayList<>();
    list.add(noiseVector(NoiseProtocol.IK_25519_AESGCM_SHA256, "noise-1", null));
    list.add(
        noiseVector(NoiseProtocol.IKPSK2_25519_AESGCM_SHA256, "noise-2", bytes("noise-2/psk", 32)));
    list.add(
        noiseVector(NoiseProtocol.parse("Noise_IK_25519_ChaChaPoly_BLAKE2b"), "noise-3", null));
    return list;
  }

  private static Map<String, Object> noiseVector(NoiseProtocol protocol, String label, byte[] psk) {
    X25519KeyPair initStatic = x25519(label + "/init_static");
    X25519KeyPair initEphemeral = x25519(label + "/init_ephemeral");
    X25519KeyPair respStatic = x25519(label + "/resp_static");
    X25519KeyPair respEphemeral = x25519(label + "/resp_ephemeral");
    byte[] prologue = RelayPrologue.encode("ws-" + label, "target-" + label);
    HandshakeState init =
        HandshakeState.builder(protocol, HandshakeState.Role.INITIATOR)
            .localStatic(initStatic)
            .insecureFixedEphemeral(initEphemeral)
            .remoteStatic(respStatic.publicKey())
            .prologue(prologue)
            .psk(psk)
            .build();
    HandshakeState resp =
        HandshakeState.builder(protocol, HandshakeState.Role.RESPONDER)
            .localStatic(respStatic)
            .insecureFixedEphemeral(respEphemeral)
            .prologue(prologue)
            .psk(psk)
            .build();
    String[] payloads = {
      "{\"hello\":\"client\"}", "{\"hello\":\"daemon\"}", "echo hi\n", "hi\r\n", "", "exit\n"
    };
    List<Map<String, Object>> messages = new ArrayList<>();
    TransportPair initT = null;
    TransportPair respT = null;
    for (int i = 0; i < payloads.length; i++) {
      byte[] payload = payloads[i].getBytes(StandardCharsets.UTF_8);
      byte[] ct;
      if (i == 0) {
        ct = init.writeMessage(payload);
        resp.readMessage(ct);
      } else if (i == 1) {
        ct = resp.writeMessage(payload);
        init.readMessage(ct);
        initT = init.split();
        respT = resp.split();
      } else if (i % 2 == 0) {
        ct = initT.encrypt(payload);
        respT.decrypt(ct);
      } else {
        ct = respT.encrypt(payload);
        initT.decrypt(ct);
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("payload", Hex.e(payload));
      m.put("ciphertext", Hex.e(ct));
      messages.add(m);
    }
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("protocol_name", protocol.name());
    v.put("init_prologue", Hex.e(prologue));
    v.put("init_static", Hex.e(initStatic.privateKey().exportPrivateBytes()));
    v.put("init_ephemeral", Hex.e(initEphemeral.privateKey().exportPrivateBytes()));
    v.put("init_remote_static", respStatic.publicKey().toHex());
    v.put("init_psks", psk == null ? List.of() : List.of(Hex.e(psk)));
    v.put("resp_prologue", Hex.e(prologue));
    v.put("resp_static", Hex.e(respStatic.privateKey().exportPrivateBytes()));
    v.put("resp_ephemeral", Hex.e(respEphemeral.privateKey().exportPrivateBytes()));
    v.put("resp_psks", psk == null ? List.of() : List.of(Hex.e(psk)));
    v.put("handshake_hash", Hex.e(init.handshakeHash()));
    v.put("messages", messages);
    return v;
  }

  // ---- webtty-key-id.json ----

  private static List<Map<String, Object>> keyIds() {
    List<Map<String, Object>> list = new ArrayList<>();
    List<X25519PublicKey> keys = new ArrayList<>();
    // RFC 7748 §6.1 Alice's public key, the base point u=9, then derived keys
    keys.add(
        X25519PublicKey.fromHex(
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
    keys.add(X25519PublicKey.fromHex("09" + "00".repeat(31)));
    for (int i = 1; i <= 3; i++) {
      keys.add(x25519("key-id-" + i).publicKey());
    }
    for (X25519PublicKey k : keys) {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("public_key", k.toHex());
      v.put("key_id", KeyId.of(k).toHex());
      list.add(v);
    }
    return list;
  }

  // ---- webtty-grant-v2.json ----

  private static List<Map<String, Object>> grants() {
    List<Map<String, Object>> list = new ArrayList<>();
    X25519KeyPair a = x25519("grant/recipient-a");
    X25519KeyPair b = x25519("grant/recipient-b");
    X25519KeyPair c = x25519("grant/recipient-c");
    list.add(
        grant(
            "grant-v2-1",
            KeyRole.OUTPUT,
            a,
            new KeyContext(
                "3f2c6a1e-0d7b-4c55-9a38-5b1f0e2d4c61",
                "srv-01HF8Z",
                "sess-0001",
                List.of(KeyId.of(a.publicKey())))));
    KeyContext shared = sharedContext();
    list.add(grant("grant-v2-2", KeyRole.OUTPUT, a, shared));
    list.add(grant("grant-v2-3", KeyRole.OUTPUT, b, shared));
    list.add(grant("grant-v2-4", KeyRole.INPUT, a, shared));
    list.add(
        grant(
            "grant-v2-5",
            KeyRole.INPUT,
            c,
            new KeyContext(
                "wörkspace-ü",
                "server \"x\"",
                "session\t1",
                List.of(KeyId.of(c.publicKey()), KeyId.of(a.publicKey())))));
    return list;
  }

  private static KeyContext sharedContext() {
    return new KeyContext(
        "3f2c6a1e-0d7b-4c55-9a38-5b1f0e2d4c61",
        "srv-01HF8Z",
        "sess-0002",
        List.of(
            KeyId.of(x25519("grant/recipient-a").publicKey()),
            KeyId.of(x25519("grant/recipient-b").publicKey()),
            KeyId.of(x25519("grant/recipient-c").publicKey())));
  }

  private static Map<String, Object> grant(
      String label, KeyRole role, X25519KeyPair recipient, KeyContext context) {
    PayloadKey key = PayloadKey.fromBytes(bytes(label + "/payload_key", 32));
    PayloadKeyId keyId = PayloadKeyId.fromBytes(bytes(label + "/payload_key_id", 16));
    X25519KeyPair ephemeral = x25519(label + "/ephemeral");
    KeyGrant g =
        KeyGrants.insecureWrapWithEphemeral(
            role, key, keyId, context, recipient.publicKey(), ephemeral);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("recipient_private_key", Hex.e(recipient.privateKey().exportPrivateBytes()));
    v.put("recipient_public_key", recipient.publicKey().toHex());
    v.put("recipient_key_id", g.recipientKeyId().toHex());
    v.put("key_role", role.wireName());
    v.put("payload_key", Hex.e(key.exportKeyBytes()));
    v.put("payload_key_id", keyId.toHex());
    v.put("key_context", new String(context.toCanonicalJson(), StandardCharsets.UTF_8));
    v.put("payload_suite", g.payloadSuite().wireName());
    v.put("key_envelope_suite", g.keyEnvelopeSuite().wireName());
    v.put(
        "info",
        Hex.e(KeyGrants.info(role, g.payloadSuite(), g.keyEnvelopeSuite(), keyId, context)));
    v.put(
        "aad",
        Hex.e(
            KeyGrants.aad(
                g.recipientKeyId(), role, g.payloadSuite(), g.keyEnvelopeSuite(), keyId, context)));
    v.put("ephemeral_private_key", Hex.e(ephemeral.privateKey().exportPrivateBytes()));
    v.put("enc", Hex.e(g.enc()));
    v.put("ciphertext", Hex.e(g.ciphertext()));
    return v;
  }

  // ---- webtty-payload-v2.json ----

  private static List<Map<String, Object>> payloads() {
    List<Map<String, Object>> list = new ArrayList<>();
    KeyContext context = sharedContext();
    KeyId server = KeyId.of(x25519("grant/recipient-a").publicKey());
    KeyId controller = KeyId.of(x25519("grant/recipient-b").publicKey());
    byte[] big = new byte[1024];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (0x20 + i % 95);
    }
    byte[] resize = java.nio.ByteBuffer.allocate(8).putInt(132).putInt(43).array();
    // output: the server's counter 0,1,2,3 under the output key; input: the controller's 0,1,2
    // under the input key
    Object[][] cases = {
      {
        KeyRole.OUTPUT,
        Stream.STDOUT,
        server,
        0L,
        "\u001b[1;32mtotal 8\u001b[0m\r\nfile.txt  ü\r\n".getBytes(StandardCharsets.UTF_8)
      },
      {
        KeyRole.OUTPUT,
        Stream.STDERR,
        server,
        1L,
        "bash: foo: command not found\r\n".getBytes(StandardCharsets.UTF_8)
      },
      {KeyRole.OUTPUT, Stream.STDOUT, server, 2L, new byte[0]},
      {KeyRole.OUTPUT, Stream.STDOUT, server, 3L, big},
      {KeyRole.INPUT, Stream.STDIN, controller, 0L, "ls -la\r".getBytes(StandardCharsets.UTF_8)},
      {KeyRole.INPUT, Stream.RESIZE, controller, 1L, resize},
      {KeyRole.INPUT, Stream.STDIN, controller, 2L, "\u0003".getBytes(StandardCharsets.UTF_8)},
      {
        KeyRole.INPUT,
        Stream.STDIN,
        controller,
        0x0123456789abcdefL,
        "x".getBytes(StandardCharsets.UTF_8)
      },
    };
    for (int i = 0; i < cases.length; i++) {
      String label = "payload-v2-" + (i + 1);
      KeyRole role = (KeyRole) cases[i][0];
      PayloadKey key = PayloadKey.fromBytes(bytes("payload-v2/" + role.wireName() + "_key", 32));
      PayloadKeyId keyId =
          PayloadKeyId.fromBytes(bytes("payload-v2/" + role.wireName() + "_key_id", 16));
      Stream stream = (Stream) cases[i][1];
      KeyId sender = (KeyId) cases[i][2];
      long counter = (Long) cases[i][3];
      byte[] plaintext = (byte[]) cases[i][4];
      byte[] nonce = bytes(label + "/nonce", 12);
      PayloadCipher cipher = new PayloadCipher(role, key, keyId, context);
      SealedPayload sealed =
          cipher.insecureSealWithNonce(stream, sender, counter, nonce, plaintext);
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("key_role", role.wireName());
      v.put("payload_key", Hex.e(key.exportKeyBytes()));
      v.put("payload_key_id", keyId.toHex());
      v.put("key_context", new String(context.toCanonicalJson(), StandardCharsets.UTF_8));
      v.put("payload_suite", sealed.suite().wireName());
      v.put("stream", stream.wireName());
      v.put("sender_key_id", sender.toHex());
      v.put("counter", Long.toUnsignedString(counter));
      v.put("nonce", Hex.e(nonce));
      v.put("plaintext", Hex.e(plaintext));
      v.put("aad", Hex.e(cipher.aad(stream, sender, counter, nonce, plaintext.length)));
      v.put("ciphertext", Hex.e(sealed.ciphertext()));
      list.add(v);
    }
    return list;
  }

  // ---- webtty-counters-v2.json ----

  private static List<Map<String, Object>> counters() {
    List<Map<String, Object>> list = new ArrayList<>();
    long[][] cases = {
      {0, 1, 2, 3}, {0, 1, 1, 2}, {0, 1, 2, 1, 3}, {0, 2, 3}, {0, 3, 1, 4}, {5, 6}, {1, 0}
    };
    for (int i = 0; i < cases.length; i++) {
      for (boolean firstSeen : new boolean[] {false, true}) {
        if (firstSeen && i < 5) {
          continue;
        }
        PayloadCounters r =
            firstSeen ? PayloadCounters.fromFirstSeen() : PayloadCounters.fromZero();
        List<Object> counters = new ArrayList<>();
        List<Object> verdicts = new ArrayList<>();
        PayloadKeyId key = PayloadKeyId.fromBytes(bytes("counters/key", 16));
        KeyId sender = KeyId.of(x25519("grant/recipient-a").publicKey());
        for (long c : cases[i]) {
          PayloadCounters.Verdict v = r.observe(key, sender, c);
          counters.add(c);
          verdicts.add(
              v.kind() == PayloadCounters.Kind.GAP
                  ? "gap:" + v.missing()
                  : v.kind().name().toLowerCase(java.util.Locale.ROOT));
        }
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("start", firstSeen ? "first_seen" : "zero");
        v.put("counters", counters);
        v.put("verdicts", verdicts);
        list.add(v);
      }
    }
    return list;
  }

  // ---- webtty-input-key-grant-v2.json ----

  private static List<Map<String, Object>> inputKeyGrants() {
    List<Map<String, Object>> list = new ArrayList<>();
    Ed25519KeyPair server =
        Ed25519KeyPair.fromPrivateKey(
            Ed25519PrivateKey.fromBytes(bytes("input-grant/server_signing", 32)));
    X25519KeyPair serverKx = x25519("grant/recipient-a");
    X25519KeyPair controller = x25519("grant/recipient-c");
    KeyContext context = sharedContext();
    for (int epoch = 1; epoch <= 2; epoch++) {
      String label = "input-grant-" + epoch;
      PayloadKey inputKey = PayloadKey.fromBytes(bytes(label + "/input_key", 32));
      PayloadKeyId inputKeyId = PayloadKeyId.fromBytes(bytes(label + "/input_key_id", 16));
      PayloadKeyId outputKeyId = PayloadKeyId.fromBytes(bytes("payload-v2/output_key_id", 16));
      List<KeyGrant> grants =
          List.of(
              KeyGrants.insecureWrapWithEphemeral(
                  KeyRole.INPUT,
                  inputKey,
                  inputKeyId,
                  context,
                  controller.publicKey(),
                  x25519(label + "/ephemeral-controller")),
              KeyGrants.insecureWrapWithEphemeral(
                  KeyRole.INPUT,
                  inputKey,
                  inputKeyId,
                  context,
                  serverKx.publicKey(),
                  x25519(label + "/ephemeral-server")));
      InputKeyGrant g =
          new InputKeyGrant(
              context.workspaceId(),
              context.serverId(),
              context.sessionId(),
              epoch,
              KeyId.of(controller.publicKey()),
              inputKeyId,
              outputKeyId,
              grants,
              1_767_225_600_000L + epoch);
      InputKeyGrant.Signed signed = g.sign(server);
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("server_signing_private_key", Hex.e(bytes("input-grant/server_signing", 32)));
      v.put("server_signing_key", server.publicKey().toHex());
      v.put("controller_private_key", Hex.e(controller.privateKey().exportPrivateBytes()));
      v.put("key_context", new String(context.toCanonicalJson(), StandardCharsets.UTF_8));
      v.put("input_key", Hex.e(inputKey.exportKeyBytes()));
      v.put(
          "ephemeral_private_keys",
          List.of(
              Hex.e(x25519(label + "/ephemeral-controller").privateKey().exportPrivateBytes()),
              Hex.e(x25519(label + "/ephemeral-server").privateKey().exportPrivateBytes())));
      v.put("canonical_json", new String(signed.canonicalJson(), StandardCharsets.UTF_8));
      v.put("signature", Hex.e(signed.signature()));
      list.add(v);
    }
    return list;
  }

  // ---- webtty-output-key-epoch-v2.json ----

  /**
   * Two shares in a row: epoch 1 adds recipient d, epoch 2 adds e; each retires the key before it.
   */
  private static List<Map<String, Object>> outputKeyEpochs() {
    List<Map<String, Object>> list = new ArrayList<>();
    Ed25519KeyPair server =
        Ed25519KeyPair.fromPrivateKey(
            Ed25519PrivateKey.fromBytes(bytes("input-grant/server_signing", 32)));
    KeyContext previous = sharedContext();
    PayloadKeyId previousKeyId = PayloadKeyId.fromBytes(bytes("payload-v2/output_key_id", 16));
    List<X25519KeyPair> recipients =
        new ArrayList<>(
            List.of(
                x25519("grant/recipient-a"),
                x25519("grant/recipient-b"),
                x25519("grant/recipient-c")));
    String[] addedLabels = {"output-epoch/recipient-d", "output-epoch/recipient-e"};
    for (int epoch = 1; epoch <= 2; epoch++) {
      String label = "output-epoch-" + epoch;
      X25519KeyPair added = x25519(addedLabels[epoch - 1]);
      recipients.add(added);
      List<KeyId> ids = new ArrayList<>(previous.recipients());
      ids.add(KeyId.of(added.publicKey()));
      KeyContext context =
          new KeyContext(previous.workspaceId(), previous.serverId(), previous.sessionId(), ids);
      PayloadKey outputKey = PayloadKey.fromBytes(bytes(label + "/output_key", 32));
      PayloadKeyId outputKeyId = PayloadKeyId.fromBytes(bytes(label + "/output_key_id", 16));
      List<KeyGrant> grants = new ArrayList<>();
      List<Object> ephemerals = new ArrayList<>();
      for (int i = 0; i < recipients.size(); i++) {
        X25519KeyPair eph = x25519(label + "/ephemeral-" + i);
        grants.add(
            KeyGrants.insecureWrapWithEphemeral(
                KeyRole.OUTPUT,
                outputKey,
                outputKeyId,
                context,
                recipients.get(i).publicKey(),
                eph));
        ephemerals.add(Hex.e(eph.privateKey().exportPrivateBytes()));
      }
      OutputKeyEpoch e =
          new OutputKeyEpoch(
              context.workspaceId(),
              context.serverId(),
              context.sessionId(),
              epoch,
              outputKeyId,
              previousKeyId,
              context,
              grants,
              1_767_225_700_000L + epoch);
      OutputKeyEpoch.Signed signed = e.sign(server);
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("server_signing_private_key", Hex.e(bytes("input-grant/server_signing", 32)));
      v.put("server_signing_key", server.publicKey().toHex());
      v.put("previous_key_context", new String(previous.toCanonicalJson(), StandardCharsets.UTF_8));
      v.put("previous_epoch", epoch - 1);
      v.put("previous_output_key_id", previousKeyId.toHex());
      v.put("added_recipient_private_key", Hex.e(added.privateKey().exportPrivateBytes()));
      v.put("key_context", new String(context.toCanonicalJson(), StandardCharsets.UTF_8));
      v.put("output_key", Hex.e(outputKey.exportKeyBytes()));
      v.put("ephemeral_private_keys", ephemerals);
      v.put("canonical_json", new String(signed.canonicalJson(), StandardCharsets.UTF_8));
      v.put("signature", Hex.e(signed.signature()));
      list.add(v);
      previous = context;
      previousKeyId = outputKeyId;
    }
    return list;
  }

  // ---- canonical-json.json ----

  private static final String[][] CANONICAL_CASES = {
    {"{\"b\":2,\"a\":1}", null},
    {" { \"a\" : [ 1 , 2 , { \"z\" : true , \"y\" : false } ] } ", null},
    {"{\"\\u20ac\":1,\"\\r\":2,\"\\ud83d\\ude00\":3,\"1\":4,\"\\u00f6\":5,\"\\ufb33\":6}", null},
    {"{\"a\":null,\"b\":[null,1]}", null},
    {"\"\\u0000\\u001f\\b\\t\\n\\f\\r\\\"\\\\\\/\\u007f\\u2028\\u00e9\"", null},
    {"[1.0,1e3,-0,100E-2,9007199254740991,-9007199254740991]", null},
    {
      "{\"workspace_id\":\"w\",\"session_id\":\"s\",\"server_id\":\"v\",\"recipients\":[\"aa\",\"bb\"]}",
      null
    },
    {"[]", null},
    {"{}", null},
    {"\"\"", null},
    {"true", null},
    {"null", null},
    {"{\"a\":1,\"a\":2}", "duplicate_key"},
    {"{\"x\":{\"k\":1,\"k\":1}}", "duplicate_key"},
    {"1.5", "non_integer"},
    {"[0.1]", "non_integer"},
    {"9007199254740992", "out_of_range"},
    {"-9007199254740992", "out_of_range"},
    {"1e400", "out_of_range"},
    {"NaN", "non_finite"},
    {"[Infinity]", "non_finite"},
    {"[-Infinity]", "non_finite"},
    {"\"\\ud800\"", "unpaired_surrogate"},
    {"{\"a\":1", "invalid_json"},
    {"[1,]", "invalid_json"},
    {"{\"a\":1} {}", "invalid_json"},
    {"{'a':1}", "invalid_json"},
    {"", "invalid_json"},
  };

  private static List<Map<String, Object>> canonicalJson() {
    List<Map<String, Object>> list = new ArrayList<>();
    for (String[] c : CANONICAL_CASES) {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("input", c[0]);
      if (c[1] == null) {
        v.put("canonical", CanonicalJson.canonicalize(c[0]));
      } else {
        try {
          CanonicalJson.canonicalize(c[0]);
          throw new IllegalStateException("canonical JSON case must be rejected: " + c[0]);
        } catch (MalformedInputException expected) {
          v.put("error", c[1]);
        }
      }
      list.add(v);
    }
    return list;
  }

  // ---- webtty-policy.json (docs/webtty.md, "Server policy") ----

  private static List<Map<String, Object>> policies() {
    List<Map<String, Object>> list = new ArrayList<>();
    list.add(policy("webtty-policy-1", 1, true, "admins", false, true));
    list.add(policy("webtty-policy-2", 7, false, "nobody", false, true));
    list.add(policy("webtty-policy-3", 1, true, "members", true, false));
    // with a reviewer: a trusted device named with its own signed WebTTY key binding
    // (docs/webtty.md "Reviewers")
    Map<String, Object> reviewer = deviceWebTtyKey("webtty-policy-4/reviewer");
    Map<String, Object> binding = new TreeMap<>();
    binding.put("payload", reviewer.get("payload"));
    binding.put("signature", reviewer.get("signature"));
    Map<String, Object> entry = new TreeMap<>();
    entry.put("device_id", ((Map<?, ?>) reviewer.get("document")).get("device_id"));
    entry.put("webtty_key", binding);
    Map<String, Object> v =
        policy("webtty-policy-4", 2, true, "members", true, true, List.of(entry));
    v.put("reviewer_device_public_key", reviewer.get("device_public_key"));
    list.add(v);
    return list;
  }

  /** The document's fields; {@code signed} adds {@code signer_device_id}. */
  private static Map<String, Object> policyFields(
      String label,
      long version,
      boolean recording,
      String join,
      boolean recordStdin,
      boolean signed,
      List<Map<String, Object>> reviewers) {
    Map<String, Object> f = new TreeMap<>();
    f.put("type", CryptoConstants.WEBTTY_POLICY_TYPE);
    f.put("workspace_id", uuid(label + "/workspace"));
    f.put("machine_id", uuid(label + "/machine"));
    f.put("version", version);
    f.put("recording", recording);
    f.put("join", join);
    f.put("record_stdin", recordStdin);
    f.put("issued_at", "2026-12-04T16:00:00Z");
    if (signed) {
      f.put("signer_device_id", uuid(label + "/device"));
    }
    if (!reviewers.isEmpty()) {
      f.put("reviewers", reviewers);
    }
    return f;
  }

  static String uuid(String label) {
    String h = Hex.e(bytes(label, 16));
    return h.substring(0, 8)
        + "-"
        + h.substring(8, 12)
        + "-4"
        + h.substring(13, 16)
        + "-a"
        + h.substring(17, 20)
        + "-"
        + h.substring(20, 32);
  }

  private static Map<String, Object> policy(
      String label,
      long version,
      boolean recording,
      String join,
      boolean recordStdin,
      boolean signed) {
    return policy(label, version, recording, join, recordStdin, signed, List.of());
  }

  private static Map<String, Object> policy(
      String label,
      long version,
      boolean recording,
      String join,
      boolean recordStdin,
      boolean signed,
      List<Map<String, Object>> reviewers) {
    Map<String, Object> fields =
        policyFields(label, version, recording, join, recordStdin, signed, reviewers);
    String payload = CanonicalJson.encodeToString(fields);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("document", fields);
    v.put("payload", payload);
    if (signed) {
      Ed25519PrivateKey signer = Ed25519PrivateKey.fromBytes(bytes(label + "/signer", 32));
      byte[] utf8 = payload.getBytes(StandardCharsets.UTF_8);
      Map<String, Object> tampered = new TreeMap<>(fields);
      tampered.put("join", "members".equals(join) ? "nobody" : "members");
      v.put("signer_private_key", Hex.e(bytes(label + "/signer", 32)));
      v.put("signer_public_key", signer.publicKey().toHex());
      v.put("signature", Hex.e(signer.sign(utf8)));
      v.put("tampered_payload", CanonicalJson.encodeToString(tampered));
    }
    return v;
  }

  // ---- device-webtty-key.json (docs/webtty.md, "Recipients"; docs/device-trust.md) ----

  private static List<Map<String, Object>> deviceWebTtyKeys() {
    List<Map<String, Object>> list = new ArrayList<>();
    list.add(deviceWebTtyKey("device-webtty-key-1"));
    list.add(deviceWebTtyKey("device-webtty-key-2"));
    return list;
  }

  /**
   * A trusted device's WebTTY key binding: the document, its canonical payload, the device's
   * Ed25519 seed and public key, the signature, and a payload naming another X25519 key under the
   * same signature (must not verify).
   */
  private static Map<String, Object> deviceWebTtyKey(String label) {
    Map<String, Object> f = new TreeMap<>();
    f.put("type", "umbra-device-webtty-key/v1");
    f.put("workspace_id", uuid(label + "/workspace"));
    f.put("device_id", uuid(label + "/device"));
    f.put(
        "x25519_public_key",
        X25519PrivateKey.fromBytes(bytes(label + "/x25519", 32)).publicKey().toHex());
    f.put("issued_at", "2026-12-04T17:00:00Z");
    String payload = CanonicalJson.encodeToString(f);
    Ed25519PrivateKey device = Ed25519PrivateKey.fromBytes(bytes(label + "/device-key", 32));
    Map<String, Object> tampered = new TreeMap<>(f);
    tampered.put(
        "x25519_public_key",
        X25519PrivateKey.fromBytes(bytes(label + "/substitute", 32)).publicKey().toHex());
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("document", f);
    v.put("payload", payload);
    v.put("device_private_key", Hex.e(bytes(label + "/device-key", 32)));
    v.put("device_public_key", device.publicKey().toHex());
    v.put("signature", Hex.e(device.sign(payload.getBytes(StandardCharsets.UTF_8))));
    v.put("tampered_payload", CanonicalJson.encodeToString(tampered));
    return v;
  }
}
