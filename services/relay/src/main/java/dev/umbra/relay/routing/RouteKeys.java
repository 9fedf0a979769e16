package dev.umbra.relay.routing;

/**
 * The map keys ({@link Topics}) of the last route a connection or mesh link sent on, kept so a run
 * of frames on one channel builds and hashes its keys once instead of once per frame. One per
 * connection or link, on the relay's event loop.
 */
final class RouteKeys {
  private String targetWorkspace;
  private String target;
  private String targetKey;
  private String channelWorkspace;
  private String channelTarget;
  private long channel;
  private String channelKey;

  /** {@link Topics#targetKey}. */
  String target(String workspace, String target) {
    if (targetKey == null || !target.equals(this.target) || !workspace.equals(targetWorkspace)) {
      targetKey = Topics.targetKey(workspace, target);
      this.target = target;
      targetWorkspace = workspace;
    }
    return targetKey;
  }

  /** {@link Topics#channelKey}. */
  String channel(String workspace, String target, long channel) {
    if (channelKey == null
        || channel != this.channel
        || !target.equals(channelTarget)
        || !workspace.equals(channelWorkspace)) {
      channelKey = Topics.channelKey(workspace, target, channel);
      this.channel = channel;
      channelTarget = target;
      channelWorkspace = workspace;
    }
    return channelKey;
  }
}
