package dev.umbra.relay.routing;

import dev.umbra.kit.bus.BusNames;

/**
 * Bus channel names and map keys of the relay. Targets are validated to {@code [A-Za-z0-9._:-]} and
 * workspaces are UUIDs, so names cannot collide or contain glob characters.
 */
final class Topics {
  private Topics() {}

  static String targetKey(String workspace, String target) {
    return workspace + "/" + target;
  }

  static String channelKey(String workspace, String target, long channel) {
    return workspace + "/" + target + "/" + Long.toHexString(channel);
  }

  /** Towards the instance holding the daemon of a target. */
  static String targetTopic(String workspace, String target) {
    return BusNames.relayTarget(workspace, target);
  }

  /** Towards the instance holding the client of a channel. */
  static String channelTopic(String workspace, String target, long channel) {
    return BusNames.relayChannel(workspace, target, channel);
  }
}
