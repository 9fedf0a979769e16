package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.HashSet;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The replay memory answers as a set ordered by time would, in the bytes it states. */
class ReplayMemoryTest {
  private record Entry(long at, long hi, long lo) {}

  /**
   * Random adds (ties in time; in every other run all keys in one home slot) and removals against a
   * plain model.
   */
  @Test
  void itAnswersAsASetOrderedByTime() {
    Random random = new Random(20261206);
    for (int run = 0; run < 10; run++) {
      boolean crowded = run % 2 == 1; // every key in the same home slot: long probe runs
      int capacity = new int[] {1, 2, 7, 64, crowded ? 300 : 3000}[run / 2];
      ReplayMemory memory = new ReplayMemory(capacity);
      PriorityQueue<Entry> byTime = new PriorityQueue<>((a, b) -> Long.compare(a.at(), b.at()));
      Set<Entry> keys = new HashSet<>();
      for (int op = 0; op < 100_000; op++) {
        long hi = random.nextInt(4 * capacity + 4); // few distinct keys: lookups hit and miss
        long lo = crowded ? hi ^ 0x5DEECE66DL : random.nextInt(3);
        Entry key = new Entry(0, hi, lo);
        assertThat(memory.contains(hi, lo)).as("contains").isEqualTo(keys.contains(key));
        if (!keys.contains(key) && memory.size() < capacity && random.nextInt(3) > 0) {
          long at = random.nextInt(50);
          memory.add(at, hi, lo);
          byTime.add(new Entry(at, hi, lo));
          keys.add(key);
        } else if (memory.size() > 0 && random.nextInt(2) == 0) {
          assertThat(memory.oldest()).isEqualTo(byTime.peek().at());
          long at = memory.removeOldest();
          assertThat(at).isEqualTo(byTime.peek().at());
          // which of equal times goes first is the heap's choice: drop the one the memory forgot
          Entry gone =
              byTime.stream()
                  .filter(e -> e.at() == at && !memory.contains(e.hi(), e.lo()))
                  .findFirst()
                  .orElseThrow();
          byTime.remove(gone);
          keys.remove(new Entry(0, gone.hi(), gone.lo()));
        }
        assertThat(memory.size()).isEqualTo(keys.size()).isLessThanOrEqualTo(capacity);
      }
      for (Entry e : keys) {
        assertThat(memory.contains(e.hi(), e.lo())).isTrue();
      }
    }
  }

  /**
   * Measured, not only counted: filling the largest memory a caller uses (messaging's) allocates
   * nothing per entry beyond the arrays, whose size at capacity is {@link
   * ReplayMemory#BYTES_PER_ENTRY} per entry; with the arrays outgrown on the way (each doubling
   * keeps the old ones until it is done) the most ever held is within 16 MiB.
   */
  @Test
  void aFullMemoryHoldsItsStatedBytesAndAllocatesNoObjectPerEntry() {
    int capacity = 1 << 18;
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    Random random = new Random(7);
    long[] keys = new long[2 * capacity];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = random.nextLong();
    }
    long before = threads.getCurrentThreadAllocatedBytes();
    ReplayMemory memory = new ReplayMemory(capacity);
    for (int i = 0; i < capacity; i++) {
      memory.add(i / 4, keys[2 * i], keys[2 * i + 1]);
    }
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;

    assertThat(memory.size()).isEqualTo(capacity);
    long held = memory.bytes();
    assertThat(held).isEqualTo((long) capacity * ReplayMemory.BYTES_PER_ENTRY); // 9 MiB
    // the arrays of every length on the way sum to less than twice the last ones
    assertThat(allocated).isBetween(held, 2 * held + 64 * 1024);
    // the most held at once: the last arrays and the half-size ones they replace
    assertThat(held + held / 2).isLessThanOrEqualTo(16L << 20);
  }
}
