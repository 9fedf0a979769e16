package dev.umbra.daemon.channel;

import dev.umbra.client.channel.SecureChannel;
import dev.umbra.client.channel.SocketPipe;
import dev.umbra.daemon.audit.DaemonAudit;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelReasons;
import dev.umbra.proto.channel.Started;
import dev.umbra.proto.channel.TcpForward;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;

/** The daemon's TCP forwards: a channel piped to a connection it opens on the machine. */
final class TcpForwards {
  private TcpForwards() {}

  /** Connects to {@code host:port} of the forward and pipes the channel to it (audited). */
  static void open(
      Vertx vertx, NetClient net, DaemonAudit.Sink audit, SecureChannel channel, TcpForward fw) {
    if (fw.getPort() == 0 || fw.getPort() > 65535 || fw.getHost().isEmpty()) {
      DaemonChannels.refuse(
          channel, ChannelReason.CHANNEL_REASON_BAD_REQUEST, "forward needs a host and a port");
      return;
    }
    net.connect((int) fw.getPort(), fw.getHost())
        .onComplete(
            ar -> {
              if (channel.closed()) {
                if (ar.succeeded()) {
                  ar.result().close();
                }
                return;
              }
              if (ar.failed()) {
                audit.report(
                    new DaemonAudit.Report(
                        DaemonAudit.Action.TUNNEL_OPENED,
                        channel.channelId(),
                        false,
                        ChannelReasons.wire(ChannelReason.CHANNEL_REASON_CONNECT_FAILED),
                        -1,
                        0,
                        0,
                        0));
                DaemonChannels.refuse(
                    channel,
                    ChannelReason.CHANNEL_REASON_CONNECT_FAILED,
                    "cannot connect to "
                        + fw.getHost()
                        + ":"
                        + fw.getPort()
                        + ": "
                        + ar.cause().getMessage());
                return;
              }
              channel.send(
                  ChannelMessage.newBuilder().setStarted(Started.getDefaultInstance()).build());
              long id = channel.channelId();
              audit.report(DaemonAudit.Report.tunnelOpened(id));
              new SocketPipe(vertx, channel, ar.result())
                  .onEnded(
                      (in, out, ms, reason) ->
                          audit.report(DaemonAudit.Report.tunnelClosed(id, in, out, ms, reason)))
                  .start();
            });
  }
}
