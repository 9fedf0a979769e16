package dev.umbra.kit.bus;

import java.util.Arrays;

/**
 * The notices a {@link SealedNotices} accepted, as the first 128 bits of their MAC and their time,
 * in primitive arrays (no object per entry, {@link #BYTES_PER_ENTRY} bytes each when full): a
 * min-heap by time, so the oldest is the one to forget, and a hash index over it (linear probing,
 * at most half full) for "seen already?". At most {@code capacity} entries; the arrays start small
 * and double up to it. The MACs are keyed BLAKE2b outputs that only genuine notices pass, so nobody
 * without the key chooses what goes in, and two genuine notices share 128 bits with probability
 * ~2<sup>-128</sup> per pair. Not thread-safe ({@link SealedNotices} holds its lock).
 */
final class ReplayMemory {
  /** Bytes per entry at capacity (a power of two): time and MAC half-keys, heap-to-index, index. */
  static final int BYTES_PER_ENTRY = 3 * Long.BYTES + Integer.BYTES + 2 * Integer.BYTES;

  private static final int FIRST_LENGTH = 1024;

  private final int capacity;
  private int size;

  // the heap, entry i at index i: the notice's time, the MAC's first and second 64 bits, and the
  // index slot that points at the entry
  private long[] at = new long[0];
  private long[] hi = new long[0];
  private long[] lo = new long[0];
  private int[] slot = new int[0];

  /** Per slot: 1 + the heap index of its entry, 0 when empty; a power of two long. */
  private int[] index;

  ReplayMemory(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("a replay memory holds at least one notice");
    }
    this.capacity = capacity;
    allocate(Math.min(capacity, FIRST_LENGTH));
  }

  int capacity() {
    return capacity;
  }

  int size() {
    return size;
  }

  /** Whether the MAC whose first 128 bits are {@code hi}, {@code lo} is remembered. */
  boolean contains(long hi, long lo) {
    int mask = index.length - 1;
    for (int s = home(hi, lo, mask); index[s] != 0; s = (s + 1) & mask) {
      int e = index[s] - 1;
      if (this.hi[e] == hi && this.lo[e] == lo) {
        return true;
      }
    }
    return false;
  }

  /** The time of the oldest notice remembered; only when {@link #size} is positive. */
  long oldest() {
    return at[0];
  }

  /** Remembers a notice not remembered yet; only when {@link #size} is below the capacity. */
  void add(long time, long hi, long lo) {
    if (size == at.length) {
      allocate(Math.min(capacity, 2 * at.length));
    }
    int e = size++;
    at[e] = time;
    this.hi[e] = hi;
    this.lo[e] = lo;
    place(e);
    up(e);
  }

  /** Forgets the oldest notice and returns its time; only when {@link #size} is positive. */
  long removeOldest() {
    long time = at[0];
    unindex(slot[0]);
    size--;
    if (size > 0) {
      move(size, 0);
      down(0);
    }
    return time;
  }

  /** The bytes of the arrays (headers aside): {@link #BYTES_PER_ENTRY} per entry when full. */
  long bytes() {
    return (long) at.length * (3 * Long.BYTES + Integer.BYTES)
        + (long) index.length * Integer.BYTES;
  }

  private void allocate(int length) {
    at = Arrays.copyOf(at, length);
    hi = Arrays.copyOf(hi, length);
    lo = Arrays.copyOf(lo, length);
    slot = Arrays.copyOf(slot, length);
    index = new int[Integer.highestOneBit(Math.max(1, 2 * length - 1)) << 1];
    for (int e = 0; e < size; e++) {
      place(e);
    }
  }

  /** Puts entry {@code e} in the first free slot from its home. */
  private void place(int e) {
    int mask = index.length - 1;
    int s = home(hi[e], lo[e], mask);
    while (index[s] != 0) {
      s = (s + 1) & mask;
    }
    index[s] = e + 1;
    slot[e] = s;
  }

  /** Empties slot {@code s}, moving back the entries after it that probed past it. */
  private void unindex(int s) {
    int mask = index.length - 1;
    int hole = s;
    for (int j = (s + 1) & mask; index[j] != 0; j = (j + 1) & mask) {
      int e = index[j] - 1;
      int h = home(hi[e], lo[e], mask);
      boolean stays = hole <= j ? hole < h && h <= j : hole < h || h <= j;
      if (!stays) {
        index[hole] = index[j];
        slot[e] = hole;
        hole = j;
      }
    }
    index[hole] = 0;
  }

  private void up(int e) {
    while (e > 0) {
      int parent = (e - 1) >>> 1;
      if (at[parent] <= at[e]) {
        return;
      }
      swap(e, parent);
      e = parent;
    }
  }

  private void down(int e) {
    while (true) {
      int child = 2 * e + 1;
      if (child >= size) {
        return;
      }
      if (child + 1 < size && at[child + 1] < at[child]) {
        child++;
      }
      if (at[e] <= at[child]) {
        return;
      }
      swap(e, child);
      e = child;
    }
  }

  private void swap(int a, int b) {
    long t = at[a];
    at[a] = at[b];
    at[b] = t;
    t = hi[a];
    hi[a] = hi[b];
    hi[b] = t;
    t = lo[a];
    lo[a] = lo[b];
    lo[b] = t;
    int s = slot[a];
    slot[a] = slot[b];
    slot[b] = s;
    index[slot[a]] = a + 1;
    index[slot[b]] = b + 1;
  }

  /** Moves entry {@code from} to heap index {@code to} (whose entry is gone). */
  private void move(int from, int to) {
    at[to] = at[from];
    hi[to] = hi[from];
    lo[to] = lo[from];
    slot[to] = slot[from];
    index[slot[to]] = to + 1;
  }

  private static int home(long hi, long lo, int mask) {
    long h = (hi ^ lo) * 0x9E3779B97F4A7C15L; // the MAC is uniform already; this only folds it
    return (int) (h >>> 32) & mask;
  }
}
