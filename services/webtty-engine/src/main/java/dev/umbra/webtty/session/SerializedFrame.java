package dev.umbra.webtty.session;

import dev.umbra.kit.http.WsMessages;
import dev.umbra.proto.webtty.WebTtyFrame;
import io.vertx.core.buffer.Buffer;

/**
 * A frame and its bytes, serialized once however many participants it goes to (each DATA frame
 * carries up to 64 KiB of ciphertext).
 */
final class SerializedFrame {
  final WebTtyFrame frame;
  private byte[] bytes;

  SerializedFrame(WebTtyFrame frame) {
    this.frame = frame;
  }

  Buffer buffer() {
    if (bytes == null) {
      bytes = frame.toByteArray();
    }
    return WsMessages.wrap(bytes); // a buffer of its own per write, over the one array
  }
}
