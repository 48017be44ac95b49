package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Lossless expiry: full buckets are dropped (on insertion, by {@code cleanUp()}, by the cleaner
 * thread), buckets that are not full never are, and a dropped key behaves exactly as if it had
 * never been dropped.
 */
class EvictionTest {

  private static final long MS = 1_000_000L;
  private static final long SECOND = 1_000_000_000L;

  static List<Policy> policies() {
    return List.of(
        Policy.of(Limit.perSecond(10)),
        Policy.of(Limit.perSecond(10).withCapacity(50)),
        Policy.of(Limit.perSecond(7)),
        Policy.of(Limit.perSecond(10), Limit.perMinute(100)),
        Policy.of(new Limit(1_000, 999_983, Duration.ofSeconds(7), 1_000)));
  }

  static List<Long> starts() {
    return List.of(0L, 123_456_789_012L, Long.MAX_VALUE - 5 * SECOND, Long.MIN_VALUE + 17);
  }

  private static InMemoryStore<String> store(Policy policy, Ticker ticker) {
    return InMemoryStore.factory().create("test", policy, ticker);
  }

  @ParameterizedTest
  @MethodSource("starts")
  void cleanUp_someBucketsFull_dropsOnlyTheFullOnes(long start) {
    ManualTicker ticker = new ManualTicker(start);
    InMemoryStore<String> store = store(Policy.of(Limit.perSecond(10)), ticker);
    assertThat(store.tryAcquire("drained", 10)).isTrue();
    assertThat(store.tryAcquire("one", 1)).isTrue();
    assertThat(store.tryAcquire("half", 5)).isTrue();
    ticker.advance(100 * MS);

    assertThat(store.cleanUp()).isEqualTo(1);

    assertThat(store.size()).isEqualTo(2);
    assertThat(store.availablePermits("drained")).isEqualTo(1);
    assertThat(store.availablePermits("half")).isEqualTo(6);
    assertThat(store.availablePermits("one")).isEqualTo(10);
    ticker.advance(399 * MS);
    assertThat(store.cleanUp()).isZero();
    ticker.advance(MS); // "half" is full 500 ms after it took 5
    assertThat(store.cleanUp()).isEqualTo(1);
    assertThat(store.availablePermits("drained")).isEqualTo(5);
    ticker.advance(499 * MS);
    assertThat(store.cleanUp()).isZero();
    ticker.advance(MS);
    assertThat(store.cleanUp()).isEqualTo(1);
    assertThat(store.size()).isZero();
  }

  @Test
  void insertion_oldBucketsFullForTheirFillTime_newKeysDropThemAsTheyArrive() {
    ManualTicker ticker = new ManualTicker(42);
    InMemoryStore<String> store = store(Policy.of(Limit.perSecond(10)), ticker);
    for (int i = 0; i < 100; i++) {
      assertThat(store.tryAcquire("old-" + i, 1)).isTrue(); // full again 100 ms later
    }
    ticker.advance(500 * MS);
    assertThat(store.tryAcquire("drained", 10)).isTrue();
    ticker.advance(500 * MS);
    assertThat(store.tryAcquire("recent", 1)).isTrue();
    // old buckets have been full for 1 s (the fill time: expired), "recent" for 0 s
    ticker.advance(100 * MS);

    for (int i = 0; i < 100; i++) {
      assertThat(store.tryAcquire("new-" + i, 1)).isTrue();
    }

    // 100 insertions examine 400 entries: more than a whole pass over the at most 202 entries
    assertThat(store.size()).isEqualTo(102);
    assertThat(store.availablePermits("drained")).isEqualTo(6);
    assertThat(store.availablePermits("recent")).isEqualTo(10);
    assertThat(store.evictions()).isZero();
  }

  @Test
  void insertion_bucketsFullButNotForTheirFillTime_keptSoReturningKeysDoNotChurn() {
    ManualTicker ticker = new ManualTicker(0);
    InMemoryStore<String> store = store(Policy.of(Limit.perSecond(10)), ticker);
    for (int i = 0; i < 100; i++) {
      assertThat(store.tryAcquire("old-" + i, 1)).isTrue();
    }
    ticker.advance(999 * MS); // full for 899 ms: not yet expired

    for (int i = 0; i < 100; i++) {
      assertThat(store.tryAcquire("new-" + i, 1)).isTrue();
    }

    assertThat(store.size()).isEqualTo(200);
    assertThat(store.cleanUp()).as("cleanUp() drops full buckets without the grace").isEqualTo(100);
  }

  @Test
  void insertion_noBucketFull_dropsNothing() {
    ManualTicker ticker = new ManualTicker(-7);
    InMemoryStore<Integer> store =
        InMemoryStore.factory().create("t", Policy.of(Limit.perSecond(10)), ticker);
    for (int i = 0; i < 1_000; i++) {
      assertThat(store.tryAcquire(i, 1)).isTrue();
      ticker.advance(99 * MS / 1_000); // the first key is not full until 100 ms have passed
    }
    assertThat(store.size()).isEqualTo(1_000);
    assertThat(store.evictions()).isZero();
  }

  @Test
  void decide_refusedOnAFullNewBucket_keepsNothing() {
    ManualTicker ticker = new ManualTicker();
    InMemoryStore<String> store = store(Policy.of(Limit.perSecond(10)), ticker);

    Decision d = store.decide("greedy", 11);

    assertThat(d.canEverSucceed()).isFalse();
    assertThat(store.size()).isZero();
  }

  @ParameterizedTest
  @MethodSource("policies")
  void tryAcquire_keyDroppedThenRecreated_getsAFullBucket(Policy policy) {
    ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - SECOND);
    InMemoryStore<String> store = store(policy, ticker);
    long cap = policy.maxPermitsPerRequest();
    assertThat(store.tryAcquire("k", cap)).isTrue();
    assertThat(store.tryAcquire("k", 1)).isFalse();
    ticker.advance(fill(policy));
    assertThat(store.cleanUp()).isEqualTo(1);
    assertThat(store.size()).isZero();

    assertThat(store.availablePermits("k")).isEqualTo(cap);
    assertThat(store.tryAcquire("k", cap)).isTrue();
    assertThat(store.tryAcquire("k", 1)).isFalse();
  }

  /**
   * The lossless claim in full: random traffic over a few keys, with full buckets dropped at
   * random moments (by {@code cleanUp()} and by floods of other keys), gives every key exactly
   * the decisions of a bucket that is never dropped.
   */
  @ParameterizedTest
  @MethodSource("policies")
  void decide_randomTrafficWithDrops_equalsBucketsNeverDropped(Policy policy) {
    for (long start : starts()) {
      for (long seed = 1; seed <= 3; seed++) {
        replayAgainstNeverDropped(policy, start, new Random(seed * 31 + start));
      }
    }
  }

  private static void replayAgainstNeverDropped(Policy policy, long start, Random rnd) {
    ManualTicker ticker = new ManualTicker(start);
    InMemoryStore<String> store = store(policy, ticker);
    Map<String, TokenBucket> reference = new HashMap<>();
    long fill = fill(policy);
    long cap = policy.maxPermitsPerRequest();
    long drops = 0;
    int flood = 0;
    for (int step = 0; step < 2_000; step++) {
      int r = rnd.nextInt(100);
      if (r < 3) {
        drops += store.cleanUp();
      } else if (r < 6) {
        for (int i = 0; i < 20; i++) {
          store.tryAcquire("flood-" + flood++, 1); // insertions clean full buckets
        }
      }
      ticker.advance(rnd.nextInt(4) == 0 ? (long) (rnd.nextDouble() * 2 * fill) : rnd.nextInt(50) * MS);
      String key = "k" + rnd.nextInt(5);
      long permits = 1 + (long) (rnd.nextDouble() * rnd.nextDouble() * (cap + 1));
      TokenBucket ref = reference.computeIfAbsent(key, k -> TokenBucket.of(policy, ticker));
      String where = policy + " start=" + start + " step=" + step + " key=" + key;
      if (rnd.nextBoolean()) {
        assertThat(store.decide(key, permits)).as(where).isEqualTo(ref.decide(permits));
      } else {
        assertThat(store.tryAcquire(key, permits)).as(where).isEqualTo(ref.tryAcquire(permits));
      }
      assertThat(store.availablePermits(key)).as(where).isEqualTo(ref.availablePermits());
    }
    assertThat(drops).as("the schedule must actually drop buckets").isPositive();
  }

  @Test
  void cleaner_noNewKeys_dropsExpiredBucketsAndKeepsTheOthers() {
    ManualTicker ticker = new ManualTicker(1_000);
    InMemoryStore<String> store = InMemoryStore.factory().cleaner(Duration.ofMillis(1))
        .create("cleaned", Policy.of(Limit.perSecond(10)), ticker);
    try {
      for (int i = 0; i < 50; i++) {
        assertThat(store.tryAcquire("k" + i, 1)).isTrue();
      }
      ticker.advance(500 * MS);
      assertThat(store.tryAcquire("drained", 10)).isTrue();
      ticker.advance(600 * MS); // the k buckets have been full for 1 s: expired

      assertThat(awaitSize(store, 1)).isEqualTo(1);

      assertThat(store.availablePermits("drained")).isEqualTo(6);
    } finally {
      store.close();
    }
  }

  @Test
  void close_cleanerRunning_stopsAndEndsTheThread() {
    InMemoryStore<String> store = InMemoryStore.factory().cleaner(Duration.ofMillis(5))
        .create("closing", Policy.of(Limit.perSecond(10)), new ManualTicker());
    Thread cleaner = thread("sluice-cleaner-closing");
    assertThat(cleaner).isNotNull();
    assertThat(cleaner.isDaemon()).isTrue();
    assertThat(cleaner.isAlive()).isTrue();

    store.close();

    assertThat(cleaner.isAlive()).isFalse();
    assertThat(thread("sluice-cleaner-closing")).isNull();
    store.close(); // idempotent
  }

  @Test
  void cleaner_storeDroppedWithoutClose_threadEnds() {
    InMemoryStore<String> store = InMemoryStore.factory().cleaner(Duration.ofMillis(1))
        .create("forgotten", Policy.of(Limit.perSecond(10)), new ManualTicker());
    store.tryAcquire("k", 1);
    Thread cleaner = thread("sluice-cleaner-forgotten");
    assertThat(cleaner).isNotNull();
    store = null;

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (cleaner.isAlive() && System.nanoTime() - deadline < 0) {
      System.gc();
      Thread.yield();
    }

    assertThat(cleaner.isAlive()).isFalse();
  }

  @Test
  void factory_badOptions_refusedWithTheValueAndTheBound() {
    assertThatThrownBy(() -> InMemoryStore.factory().maxKeys(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxKeys (0) must be at least 1");
    assertThatThrownBy(() -> InMemoryStore.factory().cleaner(Duration.ofNanos(999_999)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cleaner interval (PT0.000999999S) must be at least 1 ms");
    assertThatThrownBy(() -> InMemoryStore.factory().cleaner(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be at least 1 ms");
    assertThatThrownBy(() -> InMemoryStore.factory().cleaner(Duration.ofSeconds(Long.MAX_VALUE)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be at most " + Long.MAX_VALUE + " ns");
    assertThatThrownBy(() -> InMemoryStore.factory().cleaner(null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void factory_defaults_capAtOneMillionAndNoCleaner() {
    assertThat(InMemoryStore.DEFAULT_MAX_KEYS).isEqualTo(1_000_000L);
    assertThat(InMemoryStore.factory().toString())
        .isEqualTo("InMemoryStore.Factory[maxKeys=1000000, cleaner=off]");
    InMemoryStore<String> store = InMemoryStore.factory()
        .create("nocleaner", Policy.of(Limit.perSecond(1)), new ManualTicker());
    assertThat(thread("sluice-cleaner-nocleaner")).isNull();
    store.close();
  }

  static long fill(Policy policy) {
    return policy.limits().stream().mapToLong(l -> l.fillTime().toNanos()).max().orElseThrow();
  }

  /** Waits (bounded, no sleep) until the store holds {@code target} keys or 10 s pass. */
  static long awaitSize(InMemoryStore<?> store, long target) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (store.size() != target && System.nanoTime() - deadline < 0) {
      Thread.yield();
    }
    return store.size();
  }

  static Thread thread(String name) {
    List<Thread> found = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals(name)) {
        found.add(t);
      }
    }
    assertThat(found.size()).as("threads named " + name).isLessThanOrEqualTo(1);
    return found.isEmpty() ? null : found.get(0);
  }
}
