package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.proto.SeedMutations;
import dev.umbra.proto.Wire;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of what a WebTTY server (daemon) and client parse from the engine: the frame, then
 * by type the signed ServerHello ({@link Handshake#verify}), the signed ClientProof and its grant
 * ({@link Handshake#verifyProof}, {@link ClientKeyExchange#unwrapOwnGrant}), the sealed payload of
 * DATA ({@link TtyFrames#fromProto}, {@link PayloadCipher#open}). Contract: a frame is refused with
 * {@link InvalidProtocolBufferException}, its content with a {@link CryptoException} (malformed,
 * unsupported suite, failed authentication) and nothing else; a ServerHello that verifies names the
 * key that signed it.
 */
class WebTtyClientFramesFuzzTest {
  private static final X25519KeyPair ME = X25519KeyPair.generate();
  private static final dev.umbra.crypto.keys.Ed25519KeyPair SERVER =
      dev.umbra.crypto.keys.Ed25519KeyPair.generate();

  /**
   * Fixed, so the seeds {@code share-request}, {@code output-key} and {@code resumed} are signed by
   * it and their mutants reach the parsers behind the signature check (the key is public test
   * material).
   */
  static final dev.umbra.crypto.keys.Ed25519KeyPair SIGNER =
      dev.umbra.crypto.keys.Ed25519KeyPair.fromPrivateKey(
          dev.umbra.crypto.keys.Ed25519PrivateKey.fromBytes(
              new byte[] {
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
                24, 25, 26, 27, 28, 29, 30, 31, 32
              }));

  private static final PayloadKeyId KEY_ID = PayloadKeyId.generate();
  private static final PayloadCipher CIPHER =
      new PayloadCipher(
          dev.umbra.crypto.webtty.KeyRole.OUTPUT,
          PayloadKey.generate(),
          KEY_ID,
          new KeyContext("w", "s", "sess", List.of(KeyId.of(ME.publicKey()))));

  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "framesFromTheEngineAreRefusedOnlyWithDocumentedExceptions",
                3_000,
                this::framesFromTheEngineAreRefusedOnlyWithDocumentedExceptions))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void framesFromTheEngineAreRefusedOnlyWithDocumentedExceptions(byte[] input) {
    WebTtyFrame f;
    try {
      f = Wire.parseAliased(WebTtyFrame.parser(), input);
    } catch (InvalidProtocolBufferException e) {
      return;
    }
    try {
      switch (f.getType()) {
        case WEBTTY_FRAME_TYPE_SERVER_HELLO -> {
          Handshake.ServerHello h = Handshake.verify(f.getServerHello());
          h.signingKey()
              .verify(
                  f.getServerHello().getCanonicalJson().toByteArray(),
                  f.getServerHello().getSignature().toByteArray());
        }
        case WEBTTY_FRAME_TYPE_CLIENT_PROOF, WEBTTY_FRAME_TYPE_JOINED -> {
          Handshake.ClientProof p = Handshake.verifyProof(f.getClientProof());
          assertThat(p.grants()).isNotNull();
          ClientKeyExchange.unwrapOwnGrant(
              f.getClientProof(),
              UUID.nameUUIDFromBytes(input),
              null,
              f.getSessionId(),
              ME,
              dev.umbra.crypto.webtty.KeyRole.OUTPUT);
        }
        case WEBTTY_FRAME_TYPE_INPUT_KEY -> {
          dev.umbra.crypto.webtty.InputKeyGrant.verify(
              f.getInputKeyGrant().getCanonicalJson().toByteArray(),
              f.getInputKeyGrant().getSignature().toByteArray(),
              SERVER.publicKey());
        }
        case WEBTTY_FRAME_TYPE_OUTPUT_KEY -> {
          if (f.hasOutputKeyEpoch()) {
            dev.umbra.crypto.webtty.OutputKeyEpoch e =
                dev.umbra.crypto.webtty.OutputKeyEpoch.verify(
                    f.getOutputKeyEpoch().getCanonicalJson().toByteArray(),
                    f.getOutputKeyEpoch().getSignature().toByteArray(),
                    SIGNER.publicKey());
            assertThat(e.grants()).hasSize(e.keyContext().recipients().size());
          }
        }
        case WEBTTY_FRAME_TYPE_RESUMED -> {
          ResumeDocument d = ResumeDocument.verify(f.getResume(), SIGNER.publicKey());
          assertThat(d.epoch()).isPositive();
        }
        case WEBTTY_FRAME_TYPE_SHARE -> {
          Handshake.ShareRequest r = Handshake.verifyShare(f.getShareRequest(), SIGNER.publicKey());
          assertThat(r.recipientKeys()).isNotEmpty();
        }
        case WEBTTY_FRAME_TYPE_DATA -> {
          if (f.getStream() != TtyStream.TTY_STREAM_STDIN) {
            CIPHER.open(TtyFrames.fromProto(f.getStream(), f.getSealed()));
          }
        }
        default -> {
          // nothing else is parsed beyond the frame
        }
      }
    } catch (CryptoException e) {
      // the documented refusals
    }
  }
}
