package dev.umbra.kit.bus;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The {@link RedisBus}'s durable streams: appends (XADD, pipelined), reads (XRANGE, consumer
 * groups: XGROUP, XREADGROUP, XACK, XAUTOCLAIM), sent by the bus (pooled, bounded by its timeout
 * plus a read's block time) on its prefixed names.
 */
final class RedisStreams {
  private final BiFunction<Request, Duration, Future<Response>> send;
  private final Function<List<Request>, Future<List<Response>>> batch;
  private final UnaryOperator<String> key;

  RedisStreams(
      BiFunction<Request, Duration, Future<Response>> send,
      Function<List<Request>, Future<List<Response>>> batch,
      UnaryOperator<String> key) {
    this.send = send;
    this.batch = batch;
    this.key = key;
  }

  private Future<Response> send1(Request r) {
    return send.apply(r, Duration.ZERO);
  }

  /** One pipelined batch of {@code XADD}s (one connection, one write) for several entries. */
  Future<List<String>> appendAll(String stream, List<Buffer> bodies, long maxLength) {
    List<Request> reqs = new ArrayList<>(bodies.size());
    try {
      Bus.checkName(stream);
      for (Buffer body : bodies) {
        Request req = Request.cmd(Command.XADD).arg(key.apply(stream));
        reqs.add(
            (maxLength > 0 ? req.arg("MAXLEN").arg("~").arg(maxLength) : req)
                .arg("*")
                .arg("d")
                .arg(body));
      }
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    if (reqs.size() == 1) {
      return send1(reqs.getFirst()).map(r -> List.of(r.toString()));
    }
    return batch.apply(reqs).map(rs -> rs.stream().map(Response::toString).toList());
  }

  Future<List<StreamEntry>> range(String stream, String afterId, int count) {
    try {
      Bus.checkName(stream);
      StreamIds.parse(afterId);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return send1(
            Request.cmd(Command.XRANGE)
                .arg(key.apply(stream))
                .arg("(" + afterId)
                .arg("+")
                .arg("COUNT")
                .arg(count))
        .map(
            r -> {
              List<StreamEntry> out = new ArrayList<>();
              StreamReplies.parseEntries(r, out, Map.of());
              return out;
            });
  }

  Future<Void> ensureGroup(String stream, String group) {
    try {
      Bus.checkName(stream);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return send1(
            Request.cmd(Command.XGROUP)
                .arg("CREATE")
                .arg(key.apply(stream))
                .arg(group)
                .arg("$")
                .arg("MKSTREAM"))
        .<Void>mapEmpty()
        .recover(
            e ->
                String.valueOf(e.getMessage()).contains("BUSYGROUP")
                    ? Future.succeededFuture()
                    : Future.failedFuture(e));
  }

  Future<List<StreamEntry>> readGroup(
      String stream, String group, String consumer, int count, Duration block) {
    try {
      Bus.checkName(stream);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    Request req =
        Request.cmd(Command.XREADGROUP)
            .arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(count);
    if (!block.isZero()) {
      req.arg("BLOCK").arg(block.toMillis());
    }
    req.arg("STREAMS").arg(key.apply(stream)).arg(">");
    return send.apply(req, block)
        .map(
            r -> {
              List<StreamEntry> out = new ArrayList<>();
              if (r == null) {
                return out;
              }
              for (Response streamReply : r) {
                StreamReplies.parseEntries(streamReply.get(1), out, Map.of());
              }
              return out;
            });
  }

  Future<Long> ack(String stream, String group, List<String> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(0L);
    }
    Request req = Request.cmd(Command.XACK).arg(key.apply(stream)).arg(group);
    ids.forEach(req::arg);
    return send1(req).map(Response::toLong);
  }

  Future<List<StreamEntry>> claimPending(
      String stream, String group, String consumer, Duration minIdle, int count) {
    try {
      Bus.checkName(stream);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return send1(
            Request.cmd(Command.XAUTOCLAIM)
                .arg(key.apply(stream))
                .arg(group)
                .arg(consumer)
                .arg(minIdle.toMillis())
                .arg("0-0")
                .arg("COUNT")
                .arg(count))
        .compose(
            r -> {
              Response claimed = r.get(1);
              if (claimed == null || claimed.size() == 0) {
                return Future.succeededFuture(List.<StreamEntry>of());
              }
              return send1(StreamReplies.pending(key.apply(stream), group, consumer, count))
                  .map(StreamReplies::deliveryCounts)
                  .map(
                      counts -> {
                        List<StreamEntry> out = new ArrayList<>();
                        StreamReplies.parseEntries(claimed, out, counts);
                        return out;
                      });
            });
  }
}
