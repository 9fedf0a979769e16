package dev.umbra.daemon.tty;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * PTY output chunks between a session's reader and its sealer, in the order read, bounded in bytes
 * (chunks are up to 64 KiB): {@link #put} blocks while the chunks queued or being sealed exceed the
 * bound, so a slow engine socket still stops the reader and, through it, the shell.
 *
 * <p>A lock with conditions, not a monitor: in bulk output the reader waits for the sealer about
 * once per chunk, and a woken monitor waiter spins to re-enter the monitor the other thread holds
 * (JFR put ~5 % of an engine bulk run's samples there, CPU that two vCPUs need for the rest of the
 * path); a woken condition waiter parks until the lock is free.
 */
final class OutputQueue {
  private final int maxBytes;
  private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();

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
  boolean put(byte[] chunk) throws InterruptedException {
    lock.lock();
    try {
      while (!aborted && bytes > 0 && bytes + chunk.length > maxBytes) {
        changed.await();
      }
      if (aborted) {
        return false;
      }
      chunks.add(chunk);
      bytes += chunk.length;
      changed.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether nothing is queued or being sealed: a chunk sealed now by the caller keeps the order.
   */
  boolean idle() {
    lock.lock();
    try {
      return bytes == 0;
    } finally {
      lock.unlock();
    }
  }

  /** The next chunk, waiting for one; null once closed and empty, or aborted. */
  byte[] take() throws InterruptedException {
    lock.lock();
    try {
      while (chunks.isEmpty() && !closed && !aborted) {
        changed.await();
      }
      return aborted ? null : chunks.poll();
    } finally {
      lock.unlock();
    }
  }

  /** The sealer is done with {@code chunk} (sent or not). */
  void done(byte[] chunk) {
    lock.lock();
    try {
      bytes -= chunk.length;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** No more chunks will be put (the PTY's end): {@link #take} returns what is left, then null. */
  void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * The sealer stopped (the session is not live): pending chunks are dropped, {@link #put} refuses.
   */
  void abort() {
    lock.lock();
    try {
      aborted = true;
      chunks.clear();
      bytes = 0;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
