package dev.umbra.bench.messaging;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;

/**
 * Sends as the clients do (docs/messaging.md, "Batches"): a message goes out at once when fewer
 * than {@value #POSTS_IN_FLIGHT} requests are in flight; what is queued meanwhile goes together in
 * the next {@code POST /messages/batch} (up to {@value #BATCH} messages), so an idle sender adds no
 * wait and a busy one sends several messages a request.
 *
 * <p>Every message added gets an outcome: its request's, or the failure of a post that threw before
 * it had a future (a request slot is never taken without being given back, see {@link #pump}).
 */
final class PostBatcher {
  static final int POSTS_IN_FLIGHT = 2;
  static final int BATCH = 64;

  /** Posts one request of messages ({@code seqs} in order); may throw instead of failing. */
  interface Poster {
    Future<Void> post(int[] seqs, JsonArray messages);
  }

  private record Queued(int seq, JsonObject send, Promise<Void> outcome) {}

  private final ArrayDeque<Queued> queued = new ArrayDeque<>();
  private final Poster poster;
  private int running;
  private int requests;

  PostBatcher(Poster poster) {
    this.poster = poster;
  }

  /** Queues message {@code seq}; the future is its request's outcome. */
  Future<Void> add(int seq, JsonObject send) {
    Promise<Void> outcome = Promise.promise();
    synchronized (this) {
      queued.add(new Queued(seq, send, outcome));
      pump();
    }
    return outcome.future();
  }

  synchronized int requests() {
    return requests;
  }

  /** Requests in flight and messages queued (said when the window stalls). */
  synchronized String state() {
    return "requests in flight " + running + ", messages queued " + queued.size();
  }

  private synchronized void pump() {
    while (running < POSTS_IN_FLIGHT && !queued.isEmpty()) {
      int n = Math.min(BATCH, queued.size());
      Queued[] batch = new Queued[n];
      int[] seqs = new int[n];
      JsonArray messages = new JsonArray();
      for (int k = 0; k < n; k++) {
        batch[k] = queued.poll();
        seqs[k] = batch[k].seq();
        messages.add(batch[k].send());
      }
      running++;
      requests++;
      Future<Void> posted;
      try {
        posted = poster.post(seqs, messages);
      } catch (RuntimeException e) {
        // the slot and the messages taken above get their outcome below, like any failed post
        posted = Future.failedFuture(e);
      }
      posted.onComplete(
          ar -> {
            // the slot is free before the outcomes are told: a caller woken by the last outcome
            // (the window's drain) reads no request still in flight
            synchronized (this) {
              running--;
            }
            for (Queued q : batch) {
              q.outcome().handle(ar);
            }
            pump();
          });
    }
  }
}
