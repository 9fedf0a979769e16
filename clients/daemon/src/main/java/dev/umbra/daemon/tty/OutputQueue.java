package dev.umbra.daemon.tty;

import java.util.ArrayDeque;

/**
 * PTY output chunks between a session's reader and its sealer, in the order read, bounded in bytes
 * (chunks are up to 64 KiB): {@link #put} blocks while the chunks queued or being sealed exceed the
 * bound, so a slow engine socket still stops the reader and, through it, the shell.
 */
final class OutputQueue {
  private final int maxBytes;
  private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();

  /** Bytes queued plus the chunk being sealed. */
  private int bytes;

  private boolean closed;
  private boolean aborted;

  OutputQueue(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  /**
   * Queues {@code chunk}, waiting while the bound is reached (a chunk is always taken when nothing
   * is pending); false once the sealer has stopped.
   */
  synchronized boolean put(byte[] chunk) throws InterruptedException {
    while (!aborted && bytes > 0 && bytes + chunk.length > maxBytes) {
      wait();
    }
    if (aborted) {
      return false;
    }
    chunks.add(chunk);
    bytes += chunk.length;
    notifyAll();
    return true;
  }

  /**
   * Whether nothing is queued or being sealed: a chunk sealed now by the caller keeps the order.
   */
  synchronized boolean idle() {
    return bytes == 0;
  }

  /** The next chunk, waiting for one; null once closed and empty, or aborted. */
  synchronized byte[] take() throws InterruptedException {
    while (chunks.isEmpty() && !closed && !aborted) {
      wait();
    }
    return aborted ? null : chunks.poll();
  }

  /** The sealer is done with {@code chunk} (sent or not). */
  synchronized void done(byte[] chunk) {
    bytes -= chunk.length;
    notifyAll();
  }

  /** No more chunks will be put (the PTY's end): {@link #take} returns what is left, then null. */
  synchronized void close() {
    closed = true;
    notifyAll();
  }

  /**
   * The sealer stopped (the session is not live): pending chunks are dropped, {@link #put} refuses.
   */
  synchronized void abort() {
    aborted = true;
    chunks.clear();
    bytes = 0;
    notifyAll();
  }
}
