package dev.umbra.webtty.session;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import dev.umbra.webtty.metrics.EngineMetrics;
import java.util.Optional;

/**
 * The engine's own short frames, ERROR (the receiver's connection ends) and REFUSED (it stays), and
 * the reading of its bus messages.
 */
final class Frames {
  private Frames() {}

  static WebTtyFrame error(String sessionId, WebTtyReason reason) {
    return withReason(WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR, sessionId, reason);
  }

  static WebTtyFrame refused(String sessionId, WebTtyReason reason) {
    return withReason(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED, sessionId, reason);
  }

  private static WebTtyFrame withReason(
      WebTtyFrameType type, String sessionId, WebTtyReason reason) {
    return WebTtyFrame.newBuilder()
        .setType(type)
        .setSessionId(sessionId == null ? "" : sessionId)
        .setReason(WebTtyReasons.wire(reason))
        .build();
  }

  /** An engine bus message, or empty (dropped, counted as malformed) when it does not parse. */
  static Optional<WebTtyBusMessage> busMessage(BusMessage m, EngineMetrics metrics) {
    try {
      return Optional.of(WebTtyBusMessage.parseFrom(m.body().getBytes()));
    } catch (InvalidProtocolBufferException e) {
      metrics.dropped("malformed_bus_message");
      return Optional.empty();
    }
  }
}
