package dev.umbra.crypto.envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.UnsupportedSuiteException;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.P256PublicKey;
import dev.umbra.crypto.testing.Mutations;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkspaceKeyEnvelopesTest {
  private final P256KeyPair device = P256KeyPair.generate();
  private final byte[] keyset = "workspace keyset".getBytes();
  private final byte[] ad = "ws-1/device-7".getBytes();

  @Test
  void recordsSuiteEphemeralKeySaltNonceAndCiphertextAndOpens() {
    WorkspaceKeyEnvelope e = WorkspaceKeyEnvelopes.seal(device.publicKey(), keyset, ad);
    assertThat(e.suite()).isEqualTo("p256-ecdh-hkdf-sha256-aes-256-gcm");
    assertThat(e.salt()).hasSize(32);
    assertThat(e.nonce()).hasSize(12);
    assertThat(e.ciphertext()).hasSize(keyset.length + 16);
    assertThat(WorkspaceKeyEnvelopes.open(e, device, ad)).isEqualTo(keyset);
    assertThat(WorkspaceKeyEnvelopes.open(WorkspaceKeyEnvelope.fromJson(e.toJson()), device, ad))
        .isEqualTo(keyset);
  }

  @Test
  void usesAFreshEphemeralKeyEachTime() {
    assertThat(WorkspaceKeyEnvelopes.seal(device.publicKey(), keyset, ad).ephemeralPublicKey())
        .isNotEqualTo(
            WorkspaceKeyEnvelopes.seal(device.publicKey(), keyset, ad).ephemeralPublicKey());
  }

  @Test
  void anotherRecipientOrAssociatedDataCannotOpen() {
    WorkspaceKeyEnvelope e = WorkspaceKeyEnvelopes.seal(device.publicKey(), keyset, ad);
    assertThatThrownBy(() -> WorkspaceKeyEnvelopes.open(e, P256KeyPair.generate(), ad))
        .isInstanceOf(AuthenticationFailedException.class);
    assertThatThrownBy(() -> WorkspaceKeyEnvelopes.open(e, device, "ws-2/device-7".getBytes()))
        .isInstanceOf(AuthenticationFailedException.class);
  }

  @Test
  void flippingAnyBitOfAnyFieldFails() {
    WorkspaceKeyEnvelope e = WorkspaceKeyEnvelopes.seal(device.publicKey(), keyset, ad);
    List<String> accepted = new ArrayList<>();
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "salt",
            e.salt(),
            s ->
                WorkspaceKeyEnvelopes.open(
                    new WorkspaceKeyEnvelope(
                        e.suite(), e.ephemeralPublicKey(), s, e.nonce(), e.ciphertext()),
                    device,
                    ad)));
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "nonce",
            e.nonce(),
            n ->
                WorkspaceKeyEnvelopes.open(
                    new WorkspaceKeyEnvelope(
                        e.suite(), e.ephemeralPublicKey(), e.salt(), n, e.ciphertext()),
                    device,
                    ad)));
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "ciphertext",
            e.ciphertext(),
            c ->
                WorkspaceKeyEnvelopes.open(
                    new WorkspaceKeyEnvelope(
                        e.suite(), e.ephemeralPublicKey(), e.salt(), e.nonce(), c),
                    device,
                    ad)));
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "ephemeral key",
            e.ephemeralPublicKey().toBytes(),
            k ->
                WorkspaceKeyEnvelopes.open(
                    new WorkspaceKeyEnvelope(
                        e.suite(), P256PublicKey.fromBytes(k), e.salt(), e.nonce(), e.ciphertext()),
                    device,
                    ad)));
    accepted.addAll(
        Mutations.acceptedBitFlips("aad", ad, a -> WorkspaceKeyEnvelopes.open(e, device, a)));
    accepted.addAll(
        Mutations.acceptedTruncations(
            "ciphertext",
            e.ciphertext(),
            c ->
                WorkspaceKeyEnvelopes.open(
                    new WorkspaceKeyEnvelope(
                        e.suite(), e.ephemeralPublicKey(), e.salt(), e.nonce(), c),
                    device,
                    ad)));
    accepted.addAll(
        Mutations.acceptedTruncations("json", e.toJson(), j -> WorkspaceKeyEnvelope.fromJson(j)));
    assertThat(accepted).isEmpty();
  }

  @Test
  void rejectsUnknownSuiteStrings() {
    WorkspaceKeyEnvelope e = WorkspaceKeyEnvelopes.seal(device.publicKey(), keyset, ad);
    for (String suite :
        List.of("p256-ecdh-hkdf-sha256-aes-128-gcm", "P256-ECDH-HKDF-SHA256-AES-256-GCM", "")) {
      assertThatThrownBy(
              () ->
                  WorkspaceKeyEnvelopes.open(
                      new WorkspaceKeyEnvelope(
                          suite, e.ephemeralPublicKey(), e.salt(), e.nonce(), e.ciphertext()),
                      device,
                      ad))
          .isInstanceOf(UnsupportedSuiteException.class);
    }
    assertThatThrownBy(
            () ->
                new WorkspaceKeyEnvelope(
                    e.suite(), e.ephemeralPublicKey(), new byte[31], e.nonce(), e.ciphertext()))
        .isInstanceOf(MalformedInputException.class);
  }
}
