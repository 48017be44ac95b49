package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Time at the store level: only the ticker is read, once per call; a ticker that goes backwards
 * mints nothing and never yields a negative wait, for held keys, for keys whose full bucket was
 * dropped, and for new keys.
 */
class ClockStoreTest {

  private static final long MS = 1_000_000L;
  private static final long HOUR = 3_600_000L * MS;

  static List<Policy> policies() {
    return EvictionTest.policies();
  }

  @ParameterizedTest
  @MethodSource("policies")
  void decide_heldKeyDrainedThenTickerBackAnHour_mintsNothingAndNeverANegativeWait(Policy policy) {
    for (long start : EvictionTest.starts()) {
      ManualTicker ticker = new ManualTicker(start);
      InMemoryStore<String> store = InMemoryStore.factory().create("t", policy, ticker);
      long cap = policy.maxPermitsPerRequest();
      assertThat(store.tryAcquire("k", cap)).isTrue();

      ticker.advance(-HOUR);
      Decision d = store.decide("k", 1);
      assertThat(d.allowed()).isFalse();
      assertThat(d.remaining()).isZero();
      assertThat(d.retryAfterNanos()).isPositive();
      assertThat(d.resetAfterNanos()).isNotNegative();
      assertThat(store.tryAcquire("k", 1)).isFalse();
      assertThat(store.availablePermits("k")).isZero();
      assertThat(store.cleanUp()).isZero(); // a drained bucket is never full, whatever the ticker says

      ticker.advance(HOUR + EvictionTest.fill(policy));
      assertThat(store.availablePermits("k")).isEqualTo(cap);
    }
  }

  /**
   * A bucket dropped as full at {@code t1} and asked for again at an earlier reading behaves as a
   * new bucket created at {@code t1}: it comes back no fuller than it was when dropped.
   */
  @ParameterizedTest
  @MethodSource("policies")
  void tryAcquire_bucketDroppedThenTickerBack_comesBackNoFullerThanWhenDropped(Policy policy) {
    for (long start : EvictionTest.starts()) {
      ManualTicker ticker = new ManualTicker(start);
      InMemoryStore<String> store = InMemoryStore.factory().create("t", policy, ticker);
      long cap = policy.maxPermitsPerRequest();
      long fill = EvictionTest.fill(policy);
      assertThat(store.tryAcquire("k", cap)).isTrue();
      ticker.advance(fill);
      assertThat(store.cleanUp()).isEqualTo(1);

      for (long back : new long[] {fill / 2, fill / 3, 1, fill, 2 * fill}) {
        TokenBucket reference = TokenBucket.of(policy, ticker); // new at the drop's reading
        ticker.advance(-back);
        String at = policy + " start=" + start + " back=" + back;
        assertThat(store.decide("k", 1)).as(at).isEqualTo(reference.decide(1));
        assertThat(store.availablePermits("k")).as(at).isEqualTo(reference.availablePermits());
        assertThat(store.tryAcquire("k", cap)).as(at).isEqualTo(reference.tryAcquire(cap));
        ticker.advance(back);
        while (reference.tryAcquire()) {
          assertThat(store.tryAcquire("k", 1)).as(at).isTrue();
        }
        assertThat(store.tryAcquire("k", 1)).as(at).isFalse();
        ticker.advance(fill);
        assertThat(store.cleanUp()).as(at).isEqualTo(1);
      }
    }
  }

  @Test
  void tryAcquire_newKeyAfterTheTickerWentBack_startsNoEarlierThanTheLatestDrop() {
    ManualTicker ticker = new ManualTicker(HOUR);
    InMemoryStore<String> store =
        InMemoryStore.factory().create("t", Policy.of(Limit.perSecond(10)), ticker);
    assertThat(store.tryAcquire("old", 1)).isTrue();
    ticker.advance(Duration.ofSeconds(1));
    assertThat(store.cleanUp()).isEqualTo(1); // dropped at HOUR + 1 s

    ticker.advance(-500 * MS);

    // a new bucket is created at HOUR + 1 s: 5 of its 10 permits are still 500 ms away
    Decision d = store.decide("new", 6);
    assertThat(d.allowed()).isFalse();
    assertThat(d.remaining()).isEqualTo(5);
    assertThat(d.retryAfterNanos()).isEqualTo(100 * MS);
    assertThat(d.resetAfterNanos()).isEqualTo(500 * MS);
    assertThat(store.tryAcquire("new", 5)).isTrue();
    ticker.advance(500 * MS);
    assertThat(store.availablePermits("new")).isEqualTo(5);
  }

  @Test
  void everyCall_anyPath_readsTheTickerExactlyOnce() {
    ManualTicker manual = new ManualTicker(7);
    AtomicLong reads = new AtomicLong();
    Ticker counting = () -> {
      reads.incrementAndGet();
      return manual.read();
    };
    InMemoryStore<String> store = InMemoryStore.factory().maxKeys(2)
        .create("t", Policy.of(Limit.perSecond(10)), counting);
    assertThat(reads.get()).as("creation").isEqualTo(1);

    assertOneRead(reads, () -> store.tryAcquire("a", 1)); // new key
    assertOneRead(reads, () -> store.tryAcquire("a", 1)); // held key
    assertOneRead(reads, () -> store.decide("a", 1));
    assertOneRead(reads, () -> store.availablePermits("a"));
    assertOneRead(reads, () -> store.availablePermits("nobody"));
    assertOneRead(reads, () -> store.decide("b", 10)); // new key, drained: throttled
    assertOneRead(reads, () -> store.tryAcquire("c", 1)); // at the cap: evicts a
    assertThat(store.evictions()).isEqualTo(1);
    assertOneRead(reads, () -> store.tryAcquire("c", 9)); // c drained too: throttled
    assertOneRead(reads, () -> store.decide("d", 1)); // at the cap, all throttled: overflow
    assertOneRead(reads, () -> store.decide("e", 11)); // more than the capacity
    manual.advance(Duration.ofSeconds(1));
    assertOneRead(reads, store::cleanUp);
    assertThat(store.size()).isZero();
  }

  private static void assertOneRead(AtomicLong reads, Runnable call) {
    long before = reads.get();
    call.run();
    assertThat(reads.get() - before).isEqualTo(1);
  }
}
