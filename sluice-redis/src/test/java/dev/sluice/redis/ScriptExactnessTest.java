package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.TokenBucket;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The script against the core's exact bucket (itself checked against a BigInteger reference):
 * the same requests at the same instants give the same decisions. The script's clock is fixed
 * here (a test-only argument), so the timelines are exact and need no waiting; the Redis clock
 * path is covered by {@link RedisStoreTest}. Redis reports waits in whole microseconds, so the
 * core's nanosecond waits are compared rounded up to the microsecond.
 */
class ScriptExactnessTest {

  private static RedisStore.Factory factory;
  private static final AtomicLong NOW_MICROS = new AtomicLong();

  @BeforeAll
  static void connect() {
    factory = RedisStore.factory(SharedRedis.uri()).denyCache(false).deadline(Duration.ofSeconds(5))
        .clocks(TestClocks.fixed(NOW_MICROS::get));
  }

  @AfterAll
  static void close() {
    if (factory != null) {
      factory.close();
    }
  }

  static List<Policy> policies() {
    return List.of(
        Policy.of(Limit.perSecond(10).withCapacity(5)),
        Policy.of(Limit.perSecond(7)),
        Policy.of(Limit.of(999_983, Duration.ofSeconds(7))),
        Policy.of(Limit.of(3, Duration.ofNanos(1_500)).withCapacity(40)),
        Policy.of(Limit.of(3_000_000_000L, Duration.ofSeconds(3)).withCapacity(1_000_000)),
        Policy.of(Limit.of(1, Duration.ofDays(1)).withCapacity(3)),
        Policy.of(Limit.perSecond(7).withCapacity(20).withInitialPermits(2)),
        Policy.of(Limit.perSecond(7).withCapacity(10), Limit.perMinute(100)),
        Policy.of(Limit.of(13, Duration.ofMillis(1_001)), Limit.perSecond(3).withCapacity(9),
            Limit.of(999_983, Duration.ofSeconds(7))));
  }

  /**
   * Requests with random gaps match the exact bucket. (Time going backwards is tested apart:
   * there the core also records the readings of refusals, which Redis must not write.)
   */
  @ParameterizedTest
  @MethodSource("policies")
  void decide_randomTimeline_matchesExactBucket(Policy policy) {
    SplittableRandom random = new SplittableRandom(policy.hashCode());
    for (long start : new long[] {40_000_000_000_000L, -5_000_000L, 4_000_000_000_000_000L}) {
      NOW_MICROS.set(start);
      ManualTicker ticker = new ManualTicker(start * 1000 + 123_456_789_000L);
      TokenBucket reference = null;
      try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("exact"), policy,
          Ticker.system())) {
        long fillMicros = policy.limits().stream()
            .mapToLong(l -> l.fillTime().toNanos() / 1000).max().orElseThrow();
        long cap = policy.maxPermitsPerRequest();
        for (int step = 0; step < 150; step++) {
          long gap;
          switch (random.nextInt(6)) {
            case 0: gap = 0; break;
            case 1: gap = random.nextLong(1, 3); break;
            case 2: gap = random.nextLong(0, 100); break;
            case 3: gap = random.nextLong(0, Math.max(2, fillMicros / 10)); break;
            case 4: gap = random.nextLong(0, Math.max(2, fillMicros + 2)); break;
            default: gap = random.nextLong(0, 2_000); break;
          }
          NOW_MICROS.addAndGet(gap);
          ticker.advance(gap * 1000);
          long permits = random.nextInt(10) == 0 ? cap + 1 : 1 + random.nextLong(Math.min(cap, 4));
          if (reference == null) {
            // both buckets are born at the first request
            reference = TokenBucket.of(policy, ticker);
          }
          Decision expected = reference.decide(permits);
          Decision actual = store.decide("k", permits);
          assertThat(actual).as("step %d at %d µs, %d permits", step, NOW_MICROS.get(), permits)
              .isEqualTo(inMicros(policy, expected));
          assertThat(store.availablePermits("k")).isEqualTo(reference.availablePermits());
        }
      }
    }
  }

  /** A timeline written out by hand: 7 per second, capacity 2, fractional interval. */
  @Test
  void decide_sevenPerSecondTimeline_exactRemainingAndWaits() {
    Policy policy = Policy.of(Limit.perSecond(7).withCapacity(2));
    NOW_MICROS.set(1_000_000_000L);
    try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("seven"), policy,
        Ticker.system())) {
      // T = 142,857 1/7 µs; full bucket of 2
      assertThat(store.decide("k", 1)).isEqualTo(Decision.allowed(policy, 0, 1, 142_858_000L));
      assertThat(store.decide("k", 1)).isEqualTo(Decision.allowed(policy, 0, 0, 285_715_000L));
      // empty: next permit in T, rounded up to the microsecond; full in 2T
      assertThat(store.decide("k", 1))
          .isEqualTo(Decision.denied(policy, 0, 0, 142_858_000L, 285_715_000L));
      NOW_MICROS.addAndGet(142_857);
      assertThat(store.decide("k", 1)).isEqualTo(Decision.denied(policy, 0, 0, 1_000L, 142_858_000L));
      NOW_MICROS.addAndGet(1);
      // E = t + 142,857 1/7; full at E + 2T = t + 428,571 3/7, i.e. in 285,713 3/7 µs
      assertThat(store.decide("k", 1)).isEqualTo(Decision.allowed(policy, 0, 0, 285_714_000L));
      NOW_MICROS.addAndGet(285_713);
      assertThat(store.availablePermits("k")).isEqualTo(1);
      NOW_MICROS.addAndGet(1);
      assertThat(store.availablePermits("k")).isEqualTo(2);
      assertThat(store.availablePermits("k")).isEqualTo(2);
      assertThat(store.decide("k", 3)).isEqualTo(Decision.exceedsCapacity(policy, 0, 2, 0));
    }
  }

  /**
   * 999,983 per 7 s: taking the whole bucket in uneven chunks, each cost added as an exact
   * fraction, leaves it exactly 7 s from full; one microsecond earlier it is one permit short.
   */
  @Test
  void decide_fractionalRateAfterManyAdditions_noDrift() {
    Policy policy = Policy.of(Limit.of(999_983, Duration.ofSeconds(7)));
    NOW_MICROS.set(0);
    try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("drift"), policy,
        Ticker.system())) {
      long left = 999_983;
      long chunk = 1;
      while (left > 0) {
        long n = Math.min(chunk, left);
        assertThat(store.decide("k", n).allowed()).isTrue();
        left -= n;
        chunk = chunk * 3 + 1;
      }
      assertThat(store.decide("k", 1).allowed()).isFalse();
      NOW_MICROS.set(7_000_000L - 1);
      assertThat(store.availablePermits("k")).isEqualTo(999_982);
      NOW_MICROS.set(7_000_000L);
      assertThat(store.availablePermits("k")).isEqualTo(999_983);
      // and one permit, T = 7 000 000 / 999 983 µs, is due at ceil(T) = 8 µs after empty
      assertThat(store.decide("k", 999_983).allowed()).isTrue();
      assertThat(store.decide("k", 1).retryAfterNanos()).isEqualTo(8_000L);
      NOW_MICROS.set(7_000_007L);
      assertThat(store.decide("k", 1).allowed()).isFalse();
      NOW_MICROS.set(7_000_008L);
      assertThat(store.decide("k", 1).allowed()).isTrue();
    }
  }

  /**
   * Takes and refunds with random gaps match the exact bucket fed the same history (a refund
   * gives back at most what was taken and not yet given back).
   */
  @ParameterizedTest
  @MethodSource("policies")
  void refund_randomTimeline_matchesExactBucket(Policy policy) {
    SplittableRandom random = new SplittableRandom(policy.hashCode() * 31L + 7);
    long start = 40_000_000_000_000L;
    NOW_MICROS.set(start);
    ManualTicker ticker = new ManualTicker(start * 1000 + 123_456_789_000L);
    TokenBucket reference = null;
    try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("refund-exact"), policy,
        Ticker.system())) {
      long fillMicros = policy.limits().stream()
          .mapToLong(l -> l.fillTime().toNanos() / 1000).max().orElseThrow();
      long cap = policy.maxPermitsPerRequest();
      long owed = 0;
      for (int step = 0; step < 150; step++) {
        long gap = random.nextInt(3) == 0 ? 0 : random.nextLong(0, Math.max(2, fillMicros / 4));
        NOW_MICROS.addAndGet(gap);
        ticker.advance(gap * 1000);
        if (reference == null) {
          reference = TokenBucket.of(policy, ticker);
        }
        if (owed > 0 && random.nextInt(3) == 0) {
          long n = 1 + random.nextLong(Math.min(owed, cap));
          long heldMicros = random.nextInt(2) == 0 ? 0 : random.nextLong(300_000);
          reference.refund(n, Duration.ofNanos(heldMicros * 1000));
          store.refund("k", n, heldMicros * 1000);
          owed -= n;
        } else {
          long permits = 1 + random.nextLong(Math.min(cap, 4));
          Decision expected = reference.decide(permits);
          assertThat(store.decide("k", permits))
              .as("step %d at %d µs, %d permits", step, NOW_MICROS.get(), permits)
              .isEqualTo(inMicros(policy, expected));
          owed += expected.allowed() ? permits : 0;
        }
        assertThat(store.availablePermits("k")).as("step %d", step)
            .isEqualTo(reference.availablePermits());
      }
    }
  }

  /**
   * 7 per second, capacity 2: a refund moves the empty instant back by exactly one
   * T = 142,857 1/7 µs, so the bucket is full again 1/7 µs after the last whole microsecond
   * before, and not one microsecond earlier.
   */
  @Test
  void refund_sevenPerSecond_exactToTheMicrosecond() {
    Policy policy = Policy.of(Limit.perSecond(7).withCapacity(2));
    NOW_MICROS.set(1_000_000_000L);
    try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("seven-refund"), policy,
        Ticker.system())) {
      assertThat(store.decide("k", 1).allowed()).isTrue();
      Decision second = store.decide("k", 1);
      assertThat(second).isEqualTo(Decision.allowed(policy, 0, 0, 285_715_000L));
      // emptyAt = t; back one T: t - 142,857 1/7, one permit exactly
      store.refund("k", 1, 0);
      assertThat(store.availablePermits("k")).isEqualTo(1);
      assertThat(store.decide("k", 1)).as("as if never taken").isEqualTo(second);
      store.refund("k", 1, 0);
      NOW_MICROS.addAndGet(142_857);
      // full at t + 142,857 1/7: 1/7 µs to go, reported as one whole microsecond
      assertThat(store.availablePermits("k")).isEqualTo(1);
      assertThat(store.decide("k", 2)).isEqualTo(Decision.denied(policy, 0, 1, 1_000L, 1_000L));
      NOW_MICROS.addAndGet(1);
      assertThat(store.availablePermits("k")).isEqualTo(2);
      assertThat(store.decide("k", 2)).isEqualTo(Decision.allowed(policy, 0, 0, 285_715_000L));
      // half a T later, 2 back: capped at full (2), not 2.5
      NOW_MICROS.addAndGet(71_429);
      store.refund("k", 2, 0);
      assertThat(store.availablePermits("k")).isEqualTo(2);
      assertThat(store.decide("k", 2)).isEqualTo(Decision.allowed(policy, 0, 0, 285_715_000L));
      assertThat(store.decide("k", 1)).isEqualTo(
          Decision.denied(policy, 0, 0, 142_858_000L, 285_715_000L));
    }
  }

  /** Readings that go back in time find fewer permits, never more, and no negative wait. */
  @Test
  void decide_timeGoesBackwards_mintsNothing() {
    Policy policy = Policy.of(Limit.perSecond(10).withCapacity(5));
    NOW_MICROS.set(10_000_000L);
    try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("back"), policy,
        Ticker.system())) {
      assertThat(store.decide("k", 5).allowed()).isTrue();
      NOW_MICROS.set(9_000_000L);
      assertThat(store.availablePermits("k")).isZero();
      // E = 10 s; one permit is due at 10.1 s, 1.1 s after this reading
      assertThat(store.decide("k", 1)).isEqualTo(Decision.denied(policy, 0, 0, 1_100_000_000L,
          1_500_000_000L));
      NOW_MICROS.set(10_099_999L);
      assertThat(store.decide("k", 1).allowed()).isFalse();
      NOW_MICROS.set(10_100_000L);
      assertThat(store.decide("k", 1)).isEqualTo(Decision.allowed(policy, 0, 0, 500_000_000L));
    }
  }

  /**
   * The known limit of Redis's clock going back (guarantees §3): a full bucket is no key, so a
   * key full when Redis's clock steps back gets a new full bucket at the earlier reading, and the
   * step forward again refills it: one burst more, at most, per key and step (here 10 where the
   * policy's burst is 5, with no real time passing). A key Redis holds state for mints nothing
   * across the same steps.
   */
  @Test
  void decide_clockBackAndForthAcrossAFullKey_atMostOneBurstMore() {
    Policy policy = Policy.of(Limit.perSecond(10).withCapacity(5));
    NOW_MICROS.set(20_000_000L);
    try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("back-full"), policy,
        Ticker.system())) {
      assertThat(store.decide("held", 5).allowed()).isTrue(); // drained at 20 s: state in Redis
      assertThat(store.availablePermits("full")).isEqualTo(5); // full at 20 s: no key
      NOW_MICROS.set(19_000_000L);
      assertThat(admitted(store, "full")).isEqualTo(5);
      assertThat(admitted(store, "held")).isZero();
      NOW_MICROS.set(20_000_000L);
      assertThat(admitted(store, "full")).as("one burst more, not more").isEqualTo(5);
      assertThat(admitted(store, "held")).isZero();
    }
  }

  private static int admitted(RedisStore<String> store, String key) {
    int n = 0;
    for (int i = 0; i < 20; i++) {
      n += store.decide(key, 1).allowed() ? 1 : 0;
    }
    return n;
  }

  @Test
  void create_fillTimeBeyondTwoToThe52Micros_refusedNamingTheBound() {
    // 4.56e15 µs: within the core's 2^62 ns, beyond Redis's 2^52 µs
    Policy policy = Policy.of(new Limit(1_000, 1, Duration.ofNanos(4_560_000_000_000_000L), 1_000));
    assertThatThrownBy(() -> factory.create("too-long", policy, Ticker.system()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2^52 µs");
  }

  /** The core's decision with waits rounded up to whole microseconds, as Redis reports them. */
  /** Policies whose limits all earn a permit every 100 ms (see below). */
  static List<Policy> sameIntervalPolicies() {
    Duration t = Duration.ofMillis(100);
    return List.of(
        Policy.of(Limit.perSecond(10).withCapacity(5)),
        Policy.of(Limit.perSecond(10).withCapacity(12), Limit.of(3, t.multipliedBy(3))
            .withCapacity(30)),
        Policy.of(Limit.of(1, t).withCapacity(40)),
        Policy.of(Limit.of(1, t).withCapacity(7).withInitialPermits(3)),
        Policy.of(Limit.of(2, t.multipliedBy(2)).withCapacity(30), Limit.perSecond(10)
            .withCapacity(3), Limit.of(5, t.multipliedBy(5)).withCapacity(9)));
  }

  /**
   * Live policy changes in the middle of random timelines: Redis's conversion (in the script's
   * grain, exact integers) decides every request as the core does (the carry-over rule at the
   * nanosecond, itself checked against the reference): one limit and several, capacities up and
   * down, limits added and dropped, partial initial permits, random starts. The policies share
   * one interval, so the carried permits need no rounding in either grain; across a change of
   * rate each rounds toward fewer permits in its own grain (the core to the nanosecond, Redis to
   * 1/den µs), which may differ by that grain times the ratio of the intervals, and is checked
   * by {@code RedisPoliciesTest} instead.
   */
  @Test
  void updatePolicy_randomChangesInRandomTimelines_matchTheCore() {
    List<Policy> policies = sameIntervalPolicies();
    SplittableRandom random = new SplittableRandom(20261202);
    for (int run = 0; run < 12; run++) {
      long start = run % 3 == 0 ? 40_000_000_000_000L : run % 3 == 1 ? -5_000_000L
          : random.nextLong(0, 4_000_000_000_000_000L);
      NOW_MICROS.set(start);
      ManualTicker ticker = new ManualTicker(start * 1000 + 987_654_321_000L);
      Policy policy = policies.get(random.nextInt(policies.size()));
      try (RedisStore<String> store = factory.create(SharedRedis.uniqueName("carry"), policy,
          Ticker.system());
          dev.sluice.RateLimiter<String> core = dev.sluice.RateLimiter.builder(policy)
              .ticker(ticker).build()) {
        StringBuilder log = new StringBuilder();
        for (int step = 0; step < 120; step++) {
          if (step > 0 && random.nextInt(5) == 0) {
            policy = policies.get(random.nextInt(policies.size()));
            core.updatePolicy(policy);
            log.append("\n  change to ").append(policies.indexOf(policy));
          }
          long gap;
          switch (random.nextInt(4)) {
            case 0: gap = 0; break;
            case 1: gap = random.nextLong(0, 300); break;
            case 2: gap = random.nextLong(0, 20_000); break;
            default: gap = random.nextLong(0, 700_000); break;
          }
          NOW_MICROS.addAndGet(gap);
          ticker.advance(gap * 1000);
          long cap = policy.maxPermitsPerRequest();
          long permits = random.nextInt(12) == 0 ? cap + 1 : 1 + random.nextLong(Math.min(cap, 3));
          Decision expected = core.decide("k", permits);
          Decision actual = store.decide("k", policy, permits);
          log.append("\n  +").append(gap).append(" µs take ").append(permits).append(": ")
              .append(expected);
          assertThat(actual).as("run %d step %d at %d µs, %d permits under %s; %s", run, step,
              NOW_MICROS.get(), permits, policy, log).isEqualTo(inMicros(policy, expected));
          assertThat(store.availablePermits("k", policy)).isEqualTo(core.availablePermits("k"));
        }
      }
    }
  }

  static Decision inMicros(Policy policy, Decision d) {
    long reset = ceilMicros(d.resetAfterNanos());
    int i = d.bindingIndex();
    if (d.allowed()) {
      return Decision.allowed(policy, i, d.remaining(), reset);
    }
    if (!d.canEverSucceed()) {
      return Decision.exceedsCapacity(policy, i, d.remaining(), reset);
    }
    return Decision.denied(policy, i, d.remaining(), ceilMicros(d.retryAfterNanos()), reset);
  }

  private static long ceilMicros(long nanos) {
    return (nanos + 999) / 1000 * 1000;
  }
}
