package dev.umbra.webtty.session.model;

import com.google.protobuf.ByteString;
import dev.umbra.kit.auth.Role;

/**
 * A participant of a session: who (from their verified token), where (the instance holding their
 * connection) and their crypto identity (the key id their grant names, hex, and the X25519 public
 * key they announced, passed to the server when they get control).
 */
public record Participant(
    String id,
    String subject,
    Role role,
    String tokenId,
    String instance,
    String keyIdHex,
    ByteString publicKey) {

  /** The opener as OPEN knows it: no key yet (it comes with CLIENT_PROOF). */
  public static Participant opener(
      String id, String subject, Role role, String tokenId, String instance) {
    return new Participant(id, subject, role, tokenId, instance, "", ByteString.EMPTY);
  }

  Participant withKey(String keyIdHex, ByteString publicKey) {
    return new Participant(id, subject, role, tokenId, instance, keyIdHex, publicKey);
  }
}
