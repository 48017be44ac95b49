package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.Policy;
import dev.sluice.Reservation;
import dev.sluice.Ticker;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The local deny cache against a real Redis: what it answers, and what it saves. */
class DenyCacheTest {

  private static RedisStore.Factory factory;

  @BeforeAll
  static void connect() {
    factory = RedisStore.factory(SharedRedis.uri()).deadline(Duration.ofSeconds(2));
  }

  @AfterAll
  static void close() {
    if (factory != null) {
      factory.close();
    }
  }

  private static RedisStore<String> store(RedisStore.Factory f, Limit limit) {
    return f.create(SharedRedis.uniqueName("deny"), Policy.of(limit), Ticker.system());
  }

  @Test
  void decide_refusedAgainBeforeRetryAfter_answeredWithoutARoundTrip() {
    try (RedisStore<String> store = store(factory, Limit.of(1, Duration.ofSeconds(1)))) {
      assertThat(store.decide("a", 1).allowed()).isTrue();
      long sent = System.nanoTime();
      Decision refused = store.decide("a", 1);
      assertThat(refused.allowed()).isFalse();
      assertThat(refused.source()).as("the script refused it").isEqualTo(Decision.Source.STORE);
      long w = refused.retryAfterNanos();
      // what is left of the second since the admission: however long a busy machine stalled
      // between the two calls, never more than the interval, never nothing
      assertThat(w).isBetween(1L, 1_000_000_000L);
      long trips = store.stats.roundTrips.get();
      int local = 0;
      while (System.nanoTime() - sent < w - 20_000_000L) {
        Decision d = store.decide("a", 1);
        assertThat(d.allowed()).isFalse();
        assertThat(d.retryAfterNanos()).isPositive().isLessThanOrEqualTo(w);
        assertThat(d.source()).as("answered by the cache, and saying so")
            .isEqualTo(Decision.Source.DENY_CACHE);
        local++;
      }
      if (w > 100_000_000L) {
        assertThat(local).as("refusals answered locally within %d ns", w).isPositive();
      }
      assertThat(store.stats.roundTrips.get()).isEqualTo(trips);
      assertThat(store.stats.cacheHits.get()).isEqualTo(local);
      // once the wait is over the cache lets the request through to Redis, which admits it
      Await.until(Duration.ofSeconds(2), 100, () -> store.decide("a", 1).allowed(),
          "admitted after retryAfter");
      assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThanOrEqualTo(
          Duration.ofNanos(w - 1_000_000L));
    }
  }

  @Test
  void decide_smallerRequestThanTheCachedRefusal_goesToRedis() {
    try (RedisStore<String> store = store(factory, Limit.of(1, Duration.ofHours(1)).withCapacity(3))) {
      assertThat(store.decide("a", 2).allowed()).isTrue();
      assertThat(store.decide("a", 2).allowed()).isFalse();
      long trips = store.stats.roundTrips.get();
      assertThat(store.decide("a", 3).allowed()).isFalse();
      assertThat(store.stats.roundTrips.get()).as("a larger request is refused locally").isEqualTo(trips);
      assertThat(store.decide("a", 1).allowed()).isTrue();
      assertThat(store.stats.roundTrips.get()).as("a smaller one asks Redis").isEqualTo(trips + 1);
    }
  }

  /**
   * The deny cache never refuses a reservation that the wait could serve: with a refusal cached
   * (and answering takes locally), a reservation still goes to Redis, which grants it when the
   * wait is exactly what it needs and refuses it 1 µs below (on the script's clock moved by a
   * manual ticker, which the cache reads too).
   */
  @Test
  void reserve_withARefusalCached_decidedByRedisWithinTheWait() {
    ManualTicker t = new ManualTicker(Long.MAX_VALUE - Duration.ofMillis(70).toNanos());
    Policy tenPerSecond = Policy.of(Limit.perSecond(10).withCapacity(1));
    try (RedisStore.Factory cached = RedisStore.factory(SharedRedis.uri())
            .deadline(Duration.ofSeconds(5)).clocks(TestClocks.tickers());
        RedisStore<String> store = cached.create(SharedRedis.uniqueName("denyreserve"),
            tenPerSecond, t)) {
      assertThat(store.decide("k", 1).allowed()).isTrue();
      assertThat(store.decide("k", 1).allowed()).isFalse(); // remembered: due in 100 ms
      t.advance(Duration.ofMillis(50));
      long hits = store.stats.cacheHits.get();
      long trips = store.stats.roundTrips.get();
      Decision local = store.decide("k", 1);
      assertThat(local.allowed()).isFalse();
      assertThat(store.stats.cacheHits.get()).as("a take is refused by the cache").isEqualTo(hits + 1);
      Reservation served = store.reserve("k", tenPerSecond, 1, Duration.ofMillis(50).toNanos());
      assertThat(served.granted()).as("the wait it needs, exactly: " + served).isTrue();
      assertThat(served.delay()).isEqualTo(Duration.ofMillis(50));
      Reservation below = store.reserve("k", tenPerSecond, 1,
          Duration.ofMillis(150).minusNanos(1_000).toNanos());
      assertThat(below.granted()).as("1 µs short of the 150 ms it needs").isFalse();
      Reservation exact = store.reserve("k", tenPerSecond, 1, Duration.ofMillis(150).toNanos());
      assertThat(exact.granted()).isTrue();
      assertThat(store.stats.roundTrips.get()).as("every reservation asked Redis")
          .isEqualTo(trips + 3);
      assertThat(store.stats.cacheHits.get()).isEqualTo(hits + 1);
    }
  }

  /** A refund makes this node's cache forget the key: the permits are there to take at once. */
  @Test
  void refund_afterACachedRefusal_nextRequestGoesToRedisAndIsAdmitted() {
    Limit limit = Limit.of(1, Duration.ofHours(1)).withCapacity(2);
    try (RedisStore<String> store = store(factory, limit)) {
      assertThat(store.decide("a", 2).allowed()).isTrue();
      assertThat(store.decide("a", 1).allowed()).isFalse();
      long hits = store.stats.cacheHits.get();
      assertThat(store.decide("a", 1).allowed()).isFalse();
      assertThat(store.stats.cacheHits.get()).as("refused by the cache").isEqualTo(hits + 1);
      long trips = store.stats.roundTrips.get();
      // 2 back, less the deadline the store keeps for the trip: just under 2, so 1 whole permit
      store.refund("a", 2, 0);
      Decision d = store.decide("a", 1);
      assertThat(d.allowed()).as(d.toString()).isTrue();
      assertThat(d.remaining()).isZero();
      assertThat(store.stats.roundTrips.get()).as("the refund and the request").isEqualTo(trips + 2);
      assertThat(store.stats.cacheHits.get()).isEqualTo(hits + 1);
    }
  }

  @Test
  void decide_cacheOff_everyCallIsARoundTrip() {
    try (RedisStore<String> store = store(factory.denyCache(false), Limit.of(1, Duration.ofHours(1)))) {
      for (int i = 0; i < 20; i++) {
        store.decide("a", 1);
      }
      assertThat(commands(store)).isEqualTo(20);
      assertThat(store.stats.cacheHits.get()).isZero();
    }
  }

  /**
   * An abusive client: one thread hammering one key limited to 100 per second, for a second,
   * with the cache on and off. Prints what the cache saves; asserts only behaviour: with the
   * cache, Redis sees a few round trips per admitted request, not one per call.
   */
  @Test
  void decide_abusiveClient_cacheSavesRoundTrips() {
    Limit limit = Limit.perSecond(100).withCapacity(10);
    long[] on = hammer(factory, limit);
    long[] off = hammer(factory.denyCache(false), limit);

    System.out.printf("DENY CACHE on:  %d calls/s, %d round trips, %d admitted%n", on[0], on[1], on[2]);
    System.out.printf("DENY CACHE off: %d calls/s, %d round trips, %d admitted%n", off[0], off[1], off[2]);
    assertThat(on[1]).isLessThanOrEqualTo(3 * on[2] + 3);
    assertThat(off[1]).isEqualTo(off[3]);
  }

  /** Returns calls per second, round trips, admitted, calls. */
  private static long[] hammer(RedisStore.Factory f, Limit limit) {
    try (RedisStore<String> store = store(f, limit)) {
      long start = System.nanoTime();
      long end = start + Duration.ofSeconds(1).toNanos();
      long calls = 0;
      long admitted = 0;
      while (System.nanoTime() - end < 0) {
        admitted += store.decide("abuser", 1).allowed() ? 1 : 0;
        calls++;
      }
      long elapsed = System.nanoTime() - start;
      return new long[] {calls * 1_000_000_000L / elapsed, commands(store), admitted, calls};
    }
  }

  /**
   * Round trips, less the {@code EVAL} that follows a {@code NOSCRIPT} (part of the same call):
   * the first store to run the script on a server pays one.
   */
  private static long commands(RedisStore<?> store) {
    return store.stats.roundTrips.get() - store.stats.reloads.get();
  }
}
