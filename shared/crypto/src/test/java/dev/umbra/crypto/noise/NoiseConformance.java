package dev.umbra.crypto.noise;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.testing.Hex;
import java.util.ArrayList;
import java.util.List;

/** Replays one vector in the cacophony format (also Umbra's noise.json); returns the mismatches. */
public final class NoiseConformance {
  private NoiseConformance() {}

  public static List<String> replay(JsonNode v) {
    List<String> problems = new ArrayList<>();
    String name = v.get("protocol_name").asText();
    NoiseProtocol protocol = NoiseProtocol.parse(name);
    HandshakeState init =
        HandshakeState.builder(protocol, HandshakeState.Role.INITIATOR)
            .localStatic(pair(v, "init_static"))
            .insecureFixedEphemeral(pair(v, "init_ephemeral"))
            .remoteStatic(X25519PublicKey.fromHex(v.get("init_remote_static").asText()))
            .prologue(Hex.d(v.get("init_prologue").asText()))
            .psk(psk(v, "init_psks"))
            .build();
    String respPrologue =
        v.has("resp_prologue") ? v.get("resp_prologue").asText() : v.get("init_prologue").asText();
    HandshakeState resp =
        HandshakeState.builder(protocol, HandshakeState.Role.RESPONDER)
            .localStatic(pair(v, "resp_static"))
            .insecureFixedEphemeral(pair(v, "resp_ephemeral"))
            .prologue(Hex.d(respPrologue))
            .psk(psk(v, "resp_psks"))
            .build();
    JsonNode messages = v.get("messages");
    TransportPair initT = null;
    TransportPair respT = null;
    for (int i = 0; i < messages.size(); i++) {
      byte[] payload = Hex.d(messages.get(i).get("payload").asText());
      String expected = messages.get(i).get("ciphertext").asText();
      boolean fromInitiator = i % 2 == 0;
      byte[] ct;
      byte[] received;
      if (i < 2) {
        HandshakeState sender = fromInitiator ? init : resp;
        HandshakeState receiver = fromInitiator ? resp : init;
        ct = sender.writeMessage(payload);
        received = receiver.readMessage(Hex.d(expected));
        if (i == 1) {
          if (v.has("handshake_hash")
              && !Hex.e(init.handshakeHash()).equals(v.get("handshake_hash").asText())) {
            problems.add(name + ": handshake hash mismatch");
          }
          if (!Hex.e(init.handshakeHash()).equals(Hex.e(resp.handshakeHash()))) {
            problems.add(name + ": sides disagree on handshake hash");
          }
          initT = init.split();
          respT = resp.split();
        }
      } else {
        TransportPair sender = fromInitiator ? initT : respT;
        TransportPair receiver = fromInitiator ? respT : initT;
        ct = sender.encrypt(payload);
        received = receiver.decrypt(Hex.d(expected));
      }
      if (!Hex.e(ct).equals(expected)) {
        problems.add(name + ": message " + i + " ciphertext mismatch");
      }
      if (!Hex.e(received).equals(Hex.e(payload))) {
        problems.add(name + ": message " + i + " payload mismatch");
      }
    }
    return problems;
  }

  private static X25519KeyPair pair(JsonNode v, String field) {
    return X25519KeyPair.fromPrivateKey(X25519PrivateKey.fromBytes(Hex.d(v.get(field).asText())));
  }

  private static byte[] psk(JsonNode v, String field) {
    JsonNode psks = v.get(field);
    if (psks == null || psks.isEmpty()) {
      return null;
    }
    if (psks.size() != 1) {
      throw new IllegalArgumentException("IKpsk2 takes exactly one PSK");
    }
    return Hex.d(psks.get(0).asText());
  }
}
