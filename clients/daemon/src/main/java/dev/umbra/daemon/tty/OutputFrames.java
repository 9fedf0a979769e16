package dev.umbra.daemon.tty;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.crypto.webtty.PayloadSuite;
import dev.umbra.crypto.webtty.Stream;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrameType;
import java.io.IOException;

/**
 * A stdout DATA frame written around its ciphertext: the chunk is sealed straight into the frame's
 * array, where the frame's serialization puts the ciphertext, and the fields around it are written
 * after. The bytes are exactly those of the {@code WebTtyFrame} built with {@code
 * TtyFrames.toProto} and serialized (field-number order, zero values left out; {@code
 * OutputFramesTest}), without the two 64 KiB copies that path makes of every chunk (the ciphertext
 * array, then the frame).
 */
final class OutputFrames {
  // WebTtyFrame: 1 type, 2 session_id, 3 stream, 6 sealed
  // Sealed: 1 payload_suite, 2 payload_key_id, 3 nonce, 4 ciphertext, 5 plaintext_length,
  //         6 sender_key_id, 7 counter
  private static final String SUITE = PayloadSuite.AES_256_GCM.wireName();
  private static final int DATA = WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA.getNumber();
  private static final int STDOUT = TtyStream.TTY_STREAM_STDOUT.getNumber();

  private OutputFrames() {}

  /**
   * The serialized DATA frame of {@code chunk} (not empty) sealed as stdout by {@code sender}, with
   * its next counter. The caller holds the lock that orders the sender's payloads.
   */
  static byte[] stdout(String sessionId, PayloadSender sender, byte[] chunk) {
    long counter = sender.nextCounter();
    byte[] keyId = sender.keyId().toBytes();
    byte[] senderId = sender.sender().toBytes();
    int ctLength = chunk.length + CryptoConstants.AEAD_TAG_LENGTH;
    int sealedHead =
        CodedOutputStream.computeStringSize(1, SUITE)
            + CodedOutputStream.computeByteArraySize(2, keyId)
            + CodedOutputStream.computeTagSize(3)
            + CodedOutputStream.computeUInt32SizeNoTag(CryptoConstants.GCM_NONCE_LENGTH)
            + CryptoConstants.GCM_NONCE_LENGTH
            + CodedOutputStream.computeTagSize(4)
            + CodedOutputStream.computeUInt32SizeNoTag(ctLength);
    int sealedTail =
        CodedOutputStream.computeUInt64Size(5, chunk.length)
            + CodedOutputStream.computeByteArraySize(6, senderId)
            + (counter == 0 ? 0 : CodedOutputStream.computeUInt64Size(7, counter));
    int sealedLength = sealedHead + ctLength + sealedTail;
    int frameHead =
        CodedOutputStream.computeEnumSize(1, DATA)
            + (sessionId.isEmpty() ? 0 : CodedOutputStream.computeStringSize(2, sessionId))
            + CodedOutputStream.computeEnumSize(3, STDOUT)
            + CodedOutputStream.computeTagSize(6)
            + CodedOutputStream.computeUInt32SizeNoTag(sealedLength);
    byte[] frame = new byte[frameHead + sealedLength];
    int ctOffset = frameHead + sealedHead;
    byte[] nonce = sender.sealInto(Stream.STDOUT, counter, chunk, frame, ctOffset);
    try {
      CodedOutputStream head = CodedOutputStream.newInstance(frame, 0, ctOffset);
      head.writeEnum(1, DATA);
      if (!sessionId.isEmpty()) {
        head.writeString(2, sessionId);
      }
      head.writeEnum(3, STDOUT);
      head.writeTag(6, WireFormat.WIRETYPE_LENGTH_DELIMITED);
      head.writeUInt32NoTag(sealedLength);
      head.writeString(1, SUITE);
      head.writeByteArray(2, keyId);
      head.writeByteArray(3, nonce);
      head.writeTag(4, WireFormat.WIRETYPE_LENGTH_DELIMITED);
      head.writeUInt32NoTag(ctLength);
      head.checkNoSpaceLeft();
      CodedOutputStream tail =
          CodedOutputStream.newInstance(frame, ctOffset + ctLength, sealedTail);
      tail.writeUInt64(5, chunk.length);
      tail.writeByteArray(6, senderId);
      if (counter != 0) {
        tail.writeUInt64(7, counter);
      }
      tail.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException(
          "DATA frame layout", e); // sizes computed above: cannot happen
    }
    return frame;
  }
}
