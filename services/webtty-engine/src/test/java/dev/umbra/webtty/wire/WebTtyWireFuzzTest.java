package dev.umbra.webtty.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.proto.SeedMutations;
import dev.umbra.proto.Wire;
import dev.umbra.proto.webtty.Sealed;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the engine's frame checks: every WebSocket message of a WebTTY server or client
 * is parsed ({@link Wire#parseAliased}) and checked by {@link WebTtyWire#problem}. Contract:
 * parsing refuses with {@link InvalidProtocolBufferException} only; the checks never throw and
 * answer one of the documented reasons; a frame they admit keeps the documented envelope (DATA: the
 * suite, 16-byte key id, 12-byte nonce, 0 <= plaintext <= 64 KiB and ciphertext = plaintext + 16;
 * OPEN and RESIZE: 1..10000 columns and rows; ids well formed).
 */
class WebTtyWireFuzzTest {
  private static final Set<String> REASONS =
      Set.of(
          "unknown_type",
          "malformed",
          "wrong_stream",
          "unknown_suite",
          "bad_size",
          "oversized",
          "truncated");

  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "admittedFramesKeepTheDocumentedEnvelope",
                3_000,
                this::admittedFramesKeepTheDocumentedEnvelope))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void admittedFramesKeepTheDocumentedEnvelope(byte[] input) {
    WebTtyFrame f;
    try {
      f = Wire.parseAliased(WebTtyFrame.parser(), input);
    } catch (InvalidProtocolBufferException e) {
      return;
    }
    for (boolean fromServer : new boolean[] {true, false}) {
      Optional<dev.umbra.proto.webtty.WebTtyReason> problem = WebTtyWire.problem(f, fromServer);
      if (problem.isPresent()) {
        assertThat(REASONS).contains(dev.umbra.proto.webtty.WebTtyReasons.wire(problem.get()));
        continue;
      }
      assertThat(fromServer ? WebTtyWire.FROM_SERVER : WebTtyWire.FROM_CLIENT)
          .contains(f.getType());
      assertThat(f.getSessionId().isEmpty() || WebTtyWire.validId(f.getSessionId())).isTrue();
      switch (f.getType()) {
        case WEBTTY_FRAME_TYPE_DATA -> {
          Sealed s = f.getSealed();
          assertThat(s.getPayloadSuite()).isEqualTo(WebTtyWire.PAYLOAD_SUITE);
          assertThat(s.getPayloadKeyId().size()).isEqualTo(WebTtyWire.KEY_ID_BYTES);
          assertThat(s.getNonce().size()).isEqualTo(WebTtyWire.NONCE_BYTES);
          assertThat(s.getPlaintextLength()).isBetween(0L, (long) WebTtyWire.MAX_PLAINTEXT_BYTES);
          assertThat((long) s.getCiphertext().size())
              .isEqualTo(s.getPlaintextLength() + WebTtyWire.TAG_BYTES);
          assertThat(f.getStream())
              .isIn(
                  fromServer
                      ? Set.of(TtyStream.TTY_STREAM_STDOUT, TtyStream.TTY_STREAM_STDERR)
                      : Set.of(TtyStream.TTY_STREAM_STDIN));
        }
        case WEBTTY_FRAME_TYPE_OPEN, WEBTTY_FRAME_TYPE_RESIZE -> {
          assertThat(f.getSize().getCols()).isBetween(1, WebTtyWire.MAX_TERMINAL_SIDE);
          assertThat(f.getSize().getRows()).isBetween(1, WebTtyWire.MAX_TERMINAL_SIDE);
          if (f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_OPEN) {
            assertThat(WebTtyWire.validId(f.getServerId())).isTrue();
          }
        }
        case WEBTTY_FRAME_TYPE_SHARE -> {
          // passed to the server as it is: bounded, a 64-byte signature (the daemon verifies it)
          assertThat(f.getShareRequest().getCanonicalJson().size())
              .isBetween(1, WebTtyWire.MAX_SIGNED_BYTES);
          assertThat(f.getShareRequest().getSignature().size()).isEqualTo(64);
        }
        case WEBTTY_FRAME_TYPE_OUTPUT_KEY -> {
          assertThat(fromServer).isTrue();
          assertThat(f.getGrantsCount()).isBetween(1, WebTtyWire.MAX_GRANTS);
          assertThat(f.getOutputKeyEpoch().getSignature().size()).isEqualTo(64);
        }
        default -> {
          // the other types carry nothing the engine reads beyond the ids checked above
        }
      }
    }
    assertThat(WebTtyWire.tag(f.getType())).isNotEmpty();
  }
}
