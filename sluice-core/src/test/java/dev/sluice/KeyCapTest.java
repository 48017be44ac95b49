package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The hard cap on keys: never exceeded, buckets closest to full are evicted first, throttled
 * buckets (fewer than half the capacity) never are, evictions are counted and cost at most half a
 * bucket each, and keys the store cannot place share one overflow bucket.
 */
class KeyCapTest {

  private static final long MS = 1_000_000L;

  /** 10 per second, capacity 10: a bucket is throttled below 5 permits. */
  private static final Policy TEN = Policy.of(Limit.perSecond(10));

  private static <K> InMemoryStore<K> store(long maxKeys, Policy policy, Ticker ticker) {
    return InMemoryStore.factory().maxKeys(maxKeys).create("cap", policy, ticker);
  }

  @Test
  void tryAcquire_floodOf200kKeysIntoCap10k_neverHoldsMoreAndCountsEachEviction() {
    ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - 3);
    InMemoryStore<Integer> store = store(10_000, TEN, ticker);
    for (int i = 0; i < 200_000; i++) {
      assertThat(store.tryAcquire(i, 1)).isTrue(); // each flood key is new: a fresh bucket
      assertThat(store.size()).isLessThanOrEqualTo(10_000);
    }
    assertThat(store.size()).isEqualTo(10_000);
    // nothing refilled (the clock is frozen), so each key past the cap evicted exactly one bucket
    assertThat(store.evictions()).isEqualTo(190_000);
  }

  @Test
  void tryAcquire_capReached_evictsTheBucketClosestToFullFirst() {
    ManualTicker ticker = new ManualTicker(99);
    InMemoryStore<String> store = store(4, TEN, ticker);
    store.tryAcquire("a", 1); // 9 left
    store.tryAcquire("b", 2); // 8
    store.tryAcquire("c", 3); // 7
    store.tryAcquire("d", 4); // 6

    assertThat(store.tryAcquire("e", 3)).isTrue(); // 7: evicts a (9, closest to full)

    assertThat(store.evictions()).isEqualTo(1);
    assertThat(store.availablePermits("a")).isEqualTo(10); // gone: a new bucket would be full
    assertThat(store.availablePermits("b")).isEqualTo(8);
    assertThat(store.availablePermits("c")).isEqualTo(7);
    assertThat(store.availablePermits("d")).isEqualTo(6);
    assertThat(store.availablePermits("e")).isEqualTo(7);

    ticker.advance(250 * MS); // b 10 (full), c 9.5, d 8.5, e 9.5
    assertThat(store.tryAcquire("f", 5)).isTrue(); // takes the full bucket's place: free

    assertThat(store.evictions()).isEqualTo(1);
    assertThat(store.availablePermits("c")).isEqualTo(9);
    assertThat(store.availablePermits("d")).isEqualTo(8);
    assertThat(store.availablePermits("e")).isEqualTo(9);

    assertThat(store.tryAcquire("g", 1)).isTrue(); // c and e tie at 9.5: one of them goes
    assertThat(store.evictions()).isEqualTo(2);
    assertThat(store.availablePermits("d")).isEqualTo(8);
    assertThat(store.availablePermits("f")).isEqualTo(5);
    assertThat(store.availablePermits("c") + store.availablePermits("e")).isEqualTo(19);
    assertThat(store.size()).isEqualTo(4);
  }

  @Test
  void tryAcquire_floodOfNewKeys_throttledBucketsSurviveAndStayThrottled() {
    ManualTicker ticker = new ManualTicker(-1_000);
    InMemoryStore<String> store = store(1_000, TEN, ticker);
    for (int i = 0; i < 100; i++) {
      assertThat(store.tryAcquire("attacker-" + i, 10)).isTrue(); // drained
    }
    for (int i = 0; i < 100; i++) {
      assertThat(store.tryAcquire("almost-" + i, 6)).isTrue(); // 4 left: throttled
    }
    for (int i = 0; i < 100; i++) {
      assertThat(store.tryAcquire("half-" + i, 5)).isTrue(); // 5 left: evictable
    }

    for (int i = 0; i < 100_000; i++) {
      store.tryAcquire("flood-" + i, 1);
    }

    for (int i = 0; i < 100; i++) {
      assertThat(store.tryAcquire("attacker-" + i, 1)).as("attacker-" + i).isFalse();
      assertThat(store.availablePermits("almost-" + i)).as("almost-" + i).isEqualTo(4);
    }
    assertThat(store.size()).isEqualTo(1_000);
    assertThat(store.evictions()).isGreaterThanOrEqualTo(99_300);
  }

  @Test
  void tryAcquire_floodOfKeysThatDrainThemselves_evictsOnlyTheEvictableOnes() {
    ManualTicker ticker = new ManualTicker(31);
    InMemoryStore<String> store = store(1_000, TEN, ticker);
    for (int i = 0; i < 100; i++) {
      assertThat(store.tryAcquire("almost-" + i, 6)).isTrue(); // 4 left: throttled
      assertThat(store.tryAcquire("half-" + i, 5)).isTrue(); // 5 left: evictable
    }

    long admitted = 0;
    for (int i = 0; i < 20_000; i++) {
      admitted += store.tryAcquire("flood-" + i, 10) ? 1 : 0; // each one drains its bucket
    }

    for (int i = 0; i < 100; i++) {
      assertThat(store.availablePermits("almost-" + i)).as("almost-" + i).isEqualTo(4);
      assertThat(store.availablePermits("half-" + i)).as("half-" + i + " evicted").isEqualTo(10);
    }
    assertThat(store.evictions()).isEqualTo(100);
    // 800 flood keys fit, 100 took the halves' places, one more emptied the shared overflow
    assertThat(admitted).isEqualTo(901);
    assertThat(store.size()).isEqualTo(1_000);
  }

  @Test
  void decide_capFullOfThrottledKeys_newKeysShareOneOverflowBucket() {
    ManualTicker ticker = new ManualTicker(5);
    InMemoryStore<String> store = store(100, TEN, ticker);
    for (int i = 0; i < 100; i++) {
      assertThat(store.tryAcquire("held-" + i, 10)).isTrue();
    }

    // the overflow bucket starts full, like any bucket: 10 new keys get one permit each
    for (int i = 0; i < 10; i++) {
      Decision d = store.decide("new-" + i, 1);
      assertThat(d.allowed()).as("new-" + i).isTrue();
      assertThat(d.remaining()).isEqualTo(9 - i);
    }
    Decision refused = store.decide("new-10", 1);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.retryAfterNanos()).isEqualTo(100 * MS);
    assertThat(store.tryAcquire("new-0", 1)).isFalse(); // not placed: still shares the overflow
    assertThat(store.overflowAdmitted()).isEqualTo(10);
    assertThat(store.size()).isEqualTo(100);
    assertThat(store.evictions()).isZero();
    for (int i = 0; i < 100; i++) {
      assertThat(store.tryAcquire("held-" + i, 1)).as("held keys keep their exact limits").isFalse();
    }

    ticker.advance(100 * MS); // one permit for the overflow, and for each held bucket (still throttled)
    assertThat(store.tryAcquire("new-11", 1)).isTrue();
    assertThat(store.tryAcquire("new-12", 1)).isFalse();
    assertThat(store.overflowAdmitted()).isEqualTo(11);
    assertThat(store.evictions()).isZero();

    ticker.advance(400 * MS); // held buckets hold 5 permits: evictable, so new keys get their own
    Decision own = store.decide("new-13", 1);
    assertThat(own.allowed()).isTrue();
    assertThat(own.remaining()).isEqualTo(9);
    assertThat(store.evictions()).isEqualTo(1);
    assertThat(store.size()).isEqualTo(100);
  }

  @Test
  void tryAcquire_keyEvictedUnderTheCap_overAdmitsAtMostHalfTheCapacity() {
    ManualTicker ticker = new ManualTicker(77);
    InMemoryStore<String> store = store(50, TEN, ticker);
    long admitted = 0;
    while (admitted < 5 && store.tryAcquire("x", 1)) {
      admitted++;
    }
    assertThat(admitted).isEqualTo(5); // 5 left: the emptiest bucket that is still evictable
    int flood = 0;
    while (store.availablePermits("x") != 10 && flood < 100_000) {
      store.tryAcquire("flood-" + flood++, 10); // drained at once: never evictable
    }
    assertThat(store.availablePermits("x")).as("x evicted").isEqualTo(10);

    while (store.tryAcquire("x", 1)) {
      admitted++;
    }
    for (int i = 0; i < 10_000; i++) {
      store.tryAcquire("more-" + i, 1);
    }
    while (store.tryAcquire("x", 1)) {
      admitted++;
    }

    // frozen clock: an exact bucket admits 10; one eviction at 5 left gave back 5 more, no more
    assertThat(admitted).isEqualTo(15);
  }

  @Test
  void tryAcquire_concurrentFloodOfDistinctKeys_neverHoldsMoreThanTheCap() throws Exception {
    ManualTicker ticker = new ManualTicker(3);
    InMemoryStore<Long> store = store(10_000, TEN, ticker);
    int threads = 4;
    int perThread = 50_000;
    CyclicBarrier start = new CyclicBarrier(threads + 1);
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong maxSeen = new AtomicLong();
    AtomicLong admitted = new AtomicLong();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      long base = (long) t * perThread;
      Thread w = new Thread(() -> {
        await(start);
        for (long k = base; k < base + perThread; k++) {
          if (store.tryAcquire(k, 1)) {
            admitted.incrementAndGet();
          }
          if ((k & 1023) == 0) {
            ticker.advance(MS); // some buckets refill over the run, so full ones are dropped too
          }
        }
      });
      w.start();
      workers.add(w);
    }
    await(start);
    while (!done.get()) {
      maxSeen.accumulateAndGet(store.size(), Math::max);
      done.set(workers.stream().noneMatch(Thread::isAlive));
    }
    for (Thread w : workers) {
      w.join();
    }

    assertThat(maxSeen.get()).isLessThanOrEqualTo(10_000);
    assertThat(store.size()).isLessThanOrEqualTo(10_000);
    // every key was new and its bucket not throttled after one permit: all got their own bucket
    assertThat(admitted.get()).isEqualTo((long) threads * perThread);
  }

  @Test
  void rateLimiter_withCappedStore_reportsSizeAndEvictions() {
    ManualTicker ticker = new ManualTicker();
    try (RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10)).ticker(ticker)
        .store(InMemoryStore.factory().maxKeys(3)).build()) {
      for (int i = 0; i < 5; i++) {
        assertThat(limiter.tryAcquire("k" + i)).isTrue();
      }
      assertThat(limiter.size()).isEqualTo(3);
      assertThat(limiter.evictions()).isEqualTo(2);
    }
  }

  @Test
  void tryAcquire_severalLimits_throttledInAnyLimitIsProtected() {
    ManualTicker ticker = new ManualTicker(11);
    // 10/s with capacity 10, and 20 per minute
    Policy policy = Policy.of(Limit.perSecond(10), Limit.perMinute(20));
    InMemoryStore<String> store = store(2, policy, ticker);
    assertThat(store.tryAcquire("minuteDrained", 10)).isTrue();
    ticker.advance(Duration.ofSeconds(1)); // per-second limit full again
    assertThat(store.tryAcquire("minuteDrained", 1)).isTrue(); // per-minute: 9 of 20 left
    assertThat(store.tryAcquire("fresh", 1)).isTrue();

    assertThat(store.tryAcquire("newcomer", 1)).isTrue(); // "fresh" goes, not "minuteDrained"

    assertThat(store.evictions()).isEqualTo(1);
    assertThat(store.availablePermits("fresh")).isEqualTo(10);
    assertThat(store.availablePermits("minuteDrained")).isEqualTo(9);
  }

  static void await(CyclicBarrier barrier) {
    try {
      barrier.await();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
