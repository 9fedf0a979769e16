package dev.umbra.daemon.tty;

import dev.umbra.client.tty.TtyFrames;
import io.vertx.core.http.WebSocket;
import java.util.function.Supplier;

/**
 * A session's output path (docs/webtty.md): PTY reader → sealer → engine socket. Chunks are read on
 * a platform thread, sealed as stdout under the session's current output key and sent; a full
 * socket parks the sealing thread until it drains, and through the bounded {@link OutputQueue} that
 * backpressure reaches the PTY. After EOF the exit status follows the last output.
 */
final class OutputPipeline {
  static final int READ_CHUNK = TtyFrames.MAX_PLAINTEXT;

  /**
   * PTY output read but not yet sealed, per session (two full chunks): the reader blocks beyond it,
   * so backpressure still reaches the PTY. Output read before a share is sealed under the key
   * current when it is sealed, as before; this bounds how much that can be.
   */
  private static final int MAX_QUEUED_OUTPUT_BYTES = 2 * READ_CHUNK;

  private final SessionLink link;
  private final Supplier<WebSocket> socket;

  /**
   * Sealing threads wait on this while the engine socket's write queue is full; {@link #drained}
   * wakes them.
   */
  private final Object drain = new Object();

  OutputPipeline(SessionLink link, Supplier<WebSocket> socket) {
    this.link = link;
    this.socket = socket;
  }

  /** The engine socket drained: wakes the sessions waiting to send. */
  void drained() {
    synchronized (drain) {
      drain.notifyAll();
    }
  }

  /**
   * Reads the PTY until EOF, seals each chunk as stdout, then reports the exit status. A full chunk
   * (a burst of bulk output) is handed to a sealer thread so the PTY keeps being drained while it
   * is encrypted and written; a small one (an echo, a prompt) found nothing queued ahead of it is
   * sealed and sent by the reader itself, without a thread wake-up more. Either way one chunk at a
   * time is sealed, in the order read, under {@code outputLock}: counters stay strictly ordered.
   */
  void start(ServerSession s) {
    OutputQueue queue = new OutputQueue(MAX_QUEUED_OUTPUT_BYTES);
    Thread sealer =
        Thread.ofPlatform()
            .daemon()
            .name("tty-sealer")
            .start(
                () -> {
                  try {
                    byte[] chunk;
                    while ((chunk = queue.take()) != null) {
                      boolean sent = sealAndSend(s, chunk);
                      queue.done(chunk);
                      if (!sent) {
                        queue.abort();
                      }
                    }
                  } catch (Exception e) {
                    queue.abort(); // the reader stops too: nothing read after this could be sent in
                    // order
                  }
                });
    Thread.ofPlatform()
        .daemon()
        .name("tty-reader")
        .start(
            () -> {
              read(s, queue);
              queue.close();
              try {
                sealer.join(); // all output read is sent before the exit status
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              int status;
              try {
                status = s.shell.waitFor();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                status = 130;
              }
              // the process is gone: release the terminal's descriptors now (end() does it
              // otherwise)
              s.shell.close();
              link.exited(s, status);
            });
  }

  /**
   * The reader: until EOF (or the sealer stopped), small chunks sealed here when nothing is queued,
   * the rest queued.
   */
  private void read(ServerSession s, OutputQueue queue) {
    try {
      byte[] chunk;
      // a burst of output becomes one frame (up to its plaintext limit): fewer frames to seal and
      // record; each chunk is a new array of exactly its bytes, sealed as it is
      while ((chunk = s.shell.readBurst(READ_CHUNK)) != null) {
        if (chunk.length == 0) {
          continue;
        }
        s.firstOutput.complete(null);
        boolean more =
            chunk.length < READ_CHUNK && queue.idle() ? sealAndSend(s, chunk) : queue.put(chunk);
        if (!more) {
          break;
        }
      }
    } catch (Exception e) {
      // EIO at the end of the PTY on Linux: the same as EOF
    }
  }

  /**
   * Seals {@code chunk} as stdout and sends it, after waiting out a full socket; false once the
   * session is not live.
   */
  private boolean sealAndSend(ServerSession s, byte[] chunk) throws InterruptedException {
    synchronized (drain) {
      // backpressure: park until the socket drains, re-checked every 2 ms: the drain handler
      // does not fire for every full queue (measured: most 50 ms waits of a bulk run ended by
      // their timeout, each a 50 ms stall), and the session may end or the socket be replaced;
      // while the session is suspended (engine failover) nothing is sealed into a dead socket
      WebSocket ws = socket.get();
      while (s.state == ServerSession.State.LIVE
          && (s.suspended || (ws != null && !ws.isClosed() && ws.writeQueueFull()))) {
        drain.wait(s.suspended ? 20 : 2);
        ws = socket.get();
      }
    }
    if (s.state != ServerSession.State.LIVE) {
      return false;
    }
    synchronized (s.outputLock) {
      // sealed straight into the frame's bytes (one copy of the chunk: the encryption itself)
      link.send(OutputFrames.stdout(s.id, s.output, chunk));
    }
    return true;
  }
}
