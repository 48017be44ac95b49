package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Requests racing with the removal of their own bucket. Time is frozen within a phase and moved
 * between phases, so every bucket starts each phase full (and so droppable)
 * and an exact store admits exactly the capacity per key per phase. A request applied to a holder
 * that was removed from the map would be lost, and the key's next request would find a fresh
 * bucket: the key would admit more than the capacity in that phase.
 */
class EvictionRaceTest {

  private static final int WORKERS = 4;
  private static final int KEYS = 32;

  static List<Policy> policies() {
    return List.of(
        Policy.of(Limit.perSecond(4)),
        Policy.of(Limit.perSecond(7).withCapacity(4)),
        Policy.of(Limit.perSecond(4), Limit.perMinute(1_000)));
  }

  @ParameterizedTest
  @MethodSource("policies")
  void requests_racingExpiryOnInsertionCleanUpAndCleaner_admitExactlyTheCapacityPerPhase(
      Policy policy) throws Exception {
    ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - 1_000_000_000L);
    InMemoryStore<Integer> store = InMemoryStore.factory().cleaner(Duration.ofMillis(1))
        .create("race", policy, ticker);
    long cap = policy.maxPermitsPerRequest();
    long fill = EvictionTest.fill(policy);
    Background background = new Background();
    background.loop(store::cleanUp);
    int[] next = {KEYS};
    background.loop(() -> store.tryAcquire(next[0]++, 1)); // insertions clean full buckets

    try {
      // two fill times per phase: full for one fill time, so expiry (not only cleanUp) drops them
      runPhases(store, ticker, 2 * fill, 300, (phase, admitted) -> {
        for (int k = 0; k < KEYS; k++) {
          assertThat(admitted.get(k)).as("phase " + phase + " key " + k).isEqualTo(cap);
        }
      }, cap);
    } finally {
      background.stop();
      store.close();
    }
  }

  /**
   * Capacity 2, and each phase refills one permit: every hot bucket starts a phase holding 1 of
   * 2 permits, evictable but not full, while a flood of new keys at the cap evicts buckets. An
   * exact store admits 1 per key per phase; an eviction (at 1 permit left) hands its key a fresh
   * bucket of 2, so each eviction may add 1, and keys the store cannot place share the overflow
   * bucket, which holds at most 2. A decision lost on an evicted holder would add more.
   */
  @Test
  void requests_racingCapEvictions_overAdmitOnlyWhatEvictionsAndTheOverflowAllow() throws Exception {
    ManualTicker ticker = new ManualTicker(-5_000_000_000L);
    Policy policy = Policy.of(Limit.perSecond(2));
    long cap = 2;
    InMemoryStore<Integer> store =
        InMemoryStore.factory().maxKeys(KEYS + 8).create("capRace", policy, ticker);
    for (int k = 0; k < KEYS; k++) {
      assertThat(store.tryAcquire(k, cap)).isTrue(); // drained: each phase then refills 1
    }
    Background background = new Background();
    int[] next = {KEYS};
    background.loop(() -> store.tryAcquire(next[0]++, cap)); // flood keys drain themselves
    long[] evictionsBefore = new long[1];
    long[] evictedInTotal = new long[1];

    try {
      runPhases(store, ticker, EvictionTest.fill(policy) / 2, 300, new PhaseCheck() {
        int own = -1;

        @Override
        public void before() {
          evictionsBefore[0] = store.evictions();
          // at the cap, every bucket evictable: these evict for sure, the flood races
          store.tryAcquire(own--, cap);
          store.tryAcquire(own--, cap);
        }

        @Override
        public void check(int phase, AtomicLongArray admitted) {
          long evicted = store.evictions() - evictionsBefore[0];
          evictedInTotal[0] += evicted;
          long excess = 0;
          for (int k = 0; k < KEYS; k++) {
            excess += Math.max(0, admitted.get(k) - 1);
          }
          assertThat(excess).as("phase " + phase + ", " + evicted + " evictions")
              .isLessThanOrEqualTo(cap / 2 * evicted + cap);
        }
      }, cap);
    } finally {
      background.stop();
      store.close();
    }
    assertThat(evictedInTotal[0]).as("evictions must actually happen").isGreaterThanOrEqualTo(300);
  }

  /** Checks one phase's admitted counts per key. */
  interface PhaseCheck {
    default void before() {}

    void check(int phase, AtomicLongArray admitted);
  }

  private static void runPhases(InMemoryStore<Integer> store, ManualTicker ticker, long step,
      int phases, PhaseCheck check, long cap) throws Exception {
    CyclicBarrier start = new CyclicBarrier(WORKERS + 1);
    CyclicBarrier end = new CyclicBarrier(WORKERS + 1);
    AtomicLongArray admitted = new AtomicLongArray(KEYS);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < WORKERS; w++) {
      boolean decide = w % 2 == 0;
      Random rnd = new Random(w);
      Thread t = new Thread(() -> {
        try {
          int[] order = new int[KEYS];
          for (int p = 0; p < phases; p++) {
            start.await();
            for (int i = 0; i < KEYS; i++) {
              order[i] = i;
            }
            for (int i = KEYS - 1; i > 0; i--) {
              int j = rnd.nextInt(i + 1);
              int tmp = order[i];
              order[i] = order[j];
              order[j] = tmp;
            }
            for (int k : order) {
              for (long a = 0; a <= cap; a++) {
                boolean ok = decide ? store.decide(k, 1).allowed() : store.tryAcquire(k, 1);
                if (ok) {
                  admitted.incrementAndGet(k);
                }
              }
            }
            end.await();
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
          start.reset();
          end.reset();
        }
      }, "race-worker-" + w);
      t.start();
      workers.add(t);
    }
    for (int p = 0; p < phases && failure.get() == null; p++) {
      ticker.advance(step); // frozen within the phase; every bucket now holds a known amount
      check.before();
      start.await();
      end.await();
      check.check(p, admitted);
      for (int k = 0; k < KEYS; k++) {
        admitted.set(k, 0);
      }
    }
    for (Thread t : workers) {
      t.join();
    }
    assertThat(failure.get()).isNull();
  }

  /** Threads that run an action in a loop until stopped. */
  static final class Background {
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    void loop(Runnable action) {
      Thread t = new Thread(() -> {
        try {
          while (!stop.get()) {
            action.run();
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      }, "race-background-" + threads.size());
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }

    void stop() throws InterruptedException {
      stop.set(true);
      for (Thread t : threads) {
        t.join();
      }
      assertThat(failure.get()).isNull();
    }
  }
}
