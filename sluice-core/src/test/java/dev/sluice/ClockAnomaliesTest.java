package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Clocks that misbehave and numbers at the ends of the range: a ticker that jumps back and
 * forth, years of idle time, 10<sup>9</sup> permits per second, capacities of 10<sup>15</sup>,
 * fill times at the 2<sup>62</sup> ns bound, and tickers that wrap past {@code Long.MAX_VALUE}.
 *
 * <p>The yardstick is {@link ReferenceBucket} driven by the clamped time: the latest reading seen
 * so far. A reading that is not behind must get exactly the reference's decision; a reading that
 * is behind must never admit a request the reference could not pay for at the clamped time
 * (time going backwards mints nothing), must never throw, and must report sane waits.
 */
class ClockAnomaliesTest {

  private static final long S = 1_000_000_000L;
  private static final long HOUR = 3600 * S;
  private static final long DAY = 24 * HOUR;
  private static final long YEAR = 365 * DAY;

  enum Op { DECIDE, TRY_ACQUIRE, AVAILABLE }

  /**
   * A bucket and the reference, driven together. {@code t} is the reading as an unwrapped offset
   * from the start; {@code max} is the latest reading seen, which drives the reference.
   */
  static final class Clamped {
    final Policy policy;
    final long start;
    final ManualTicker ticker;
    final TokenBucket bucket;
    final ReferenceBucket ref;
    final long maxPermits;
    BigInteger t = BigInteger.ZERO;
    BigInteger max = BigInteger.ZERO;
    long admitted;

    Clamped(Policy policy, long start) {
      this.policy = policy;
      this.start = start;
      this.ticker = new ManualTicker(start);
      this.bucket = TokenBucket.of(policy, ticker);
      this.ref = new ReferenceBucket(policy, BigInteger.valueOf(start));
      this.maxPermits = policy.maxPermitsPerRequest();
    }

    void moveBy(long nanos) {
      moveTo(t.add(BigInteger.valueOf(nanos)));
    }

    void moveTo(BigInteger offset) {
      t = offset;
      ticker.set(BigInteger.valueOf(start).add(t).longValue()); // wraps like a real ticker
    }

    /**
     * One call at the current reading, checked against the reference at the clamped time.
     *
     * @return whether permits were taken
     */
    boolean call(Op op, long permits, String where) {
      boolean behind = t.compareTo(max) < 0;
      max = max.max(t);
      BigInteger now = BigInteger.valueOf(start).add(max);
      long lag = max.subtract(t).longValueExact();
      String at = where + " t=" + t + " max=" + max + " " + op + "(" + permits + ") " + policy;
      if (op == Op.AVAILABLE) {
        long available = bucket.availablePermits();
        if (behind) {
          assertThat(available).as(at).isBetween(0L, ref.available(now));
        } else {
          assertThat(available).as(at).isEqualTo(ref.available(now));
        }
        return false;
      }
      boolean fits = permits <= maxPermits;
      boolean refHas = fits && ref.has(now, permits);
      long refWait = fits ? ref.waitFor(now, permits) : -1;
      if (op == Op.TRY_ACQUIRE) {
        boolean ok = bucket.tryAcquire(permits);
        if (ok) {
          assertThat(refHas).as(at + ": admitted a request the clamped reference cannot pay for")
              .isTrue();
          ref.take(now, permits);
          admitted += permits;
        } else if (!behind) {
          assertThat(refHas).as(at + ": refused a request the reference can serve").isFalse();
        }
        return ok;
      }
      Decision d = bucket.decide(permits);
      if (d.allowed()) {
        assertThat(refHas).as(at + ": admitted a request the clamped reference cannot pay for " + d)
            .isTrue();
        ref.take(now, permits);
        admitted += permits;
      } else if (!behind) {
        assertThat(refHas).as(at + ": refused a request the reference can serve " + d).isFalse();
      }
      // waits are never negative, denials always wait at least 1 ns (or forever)
      if (d.allowed()) {
        assertThat(d.retryAfterNanos()).as(at + " " + d).isZero();
      } else if (!fits) {
        assertThat(d.canEverSucceed()).as(at + " " + d).isFalse();
        assertThat(d.retryAfter()).as(at + " " + d).isEmpty();
      } else if (refWait > 0) {
        // the same state, seen `lag` ns earlier
        assertThat(d.retryAfterNanos()).as(at + " " + d).isEqualTo(refWait + lag);
      } else {
        // refused only because the reading is behind: ready by the clamped time
        assertThat(d.retryAfterNanos()).as(at + " " + d).isBetween(1L, lag);
      }
      long[] capacities = policy.limits().stream().mapToLong(Limit::capacity).toArray();
      assertThat(capacities).as(at + " " + d).contains(d.limit());
      assertThat(d.remaining()).as(at + " " + d).isBetween(0L, d.limit());
      assertThat(d.resetAfterNanos()).as(at + " " + d).isEqualTo(ref.untilFull(now) + lag);
      int binding = ref.binding(now, permits);
      if (behind) {
        assertThat(d.remaining()).as(at + " " + d)
            .isLessThanOrEqualTo(ref.availableIn(binding, now));
      } else {
        assertThat(d.remaining()).as(at + " " + d).isEqualTo(ref.availableIn(binding, now));
        assertThat(d.limit()).as(at + " " + d).isEqualTo(policy.limits().get(binding).capacity());
      }
      return d.allowed();
    }

    long longestFill() {
      return policy.limits().stream().mapToLong(l -> l.fillTime().toNanos()).max().orElseThrow();
    }
  }

  static List<Policy> policies() {
    return List.of(
        Policy.of(Limit.perSecond(10).withCapacity(50)),
        Policy.of(Limit.perSecond(7)),
        Policy.of(Limit.perSecond(10), Limit.perMinute(100)),
        Policy.of(Limit.of(1, Duration.ofDays(1))),
        Policy.of(new Limit(1_000_000, 999_983, Duration.ofSeconds(7), 1_000_000)),
        Policy.of(Limit.perSecond(1_000_000_000).withCapacity(Limit.MAX_CAPACITY)),
        Policy.of(Limit.perSecond(7).withCapacity(3), Limit.of(20, Duration.ofHours(1)),
            Limit.perSecond(1_000_000_000)));
  }

  // ---- Go's TestLimiterJumpBackwards, for a whole-ns, a fractional and a two-limit policy ----

  @ParameterizedTest
  @MethodSource("policies")
  void decide_drainedThenTickerBackAnHourAndForward_mintsNothing(Policy policy) {
    long t0 = 5 * HOUR;
    Clamped c = new Clamped(policy, Long.MAX_VALUE - 2 * HOUR);
    c.moveBy(t0);
    long cap = policy.maxPermitsPerRequest();
    // drain in shrinking requests: a quarter, then whatever is shown as available
    c.call(Op.TRY_ACQUIRE, Math.max(1, cap / 4), "draining");
    for (long left = c.bucket.availablePermits(); left > 0; left = c.bucket.availablePermits()) {
      assertThat(c.call(Op.DECIDE, left, "draining")).isTrue();
    }
    assertThat(c.admitted).isEqualTo(cap);
    c.moveBy(-HOUR);
    for (int i = 0; i < 3; i++) {
      c.call(Op.AVAILABLE, 0, "an hour back");
      c.call(Op.DECIDE, 1, "an hour back");
      c.call(Op.TRY_ACQUIRE, 1, "an hour back");
      c.call(Op.DECIDE, cap + 1, "an hour back");
    }
    assertThat(c.bucket.availablePermits()).isZero();
    c.moveBy(HOUR);
    c.call(Op.AVAILABLE, 0, "forward again");
    c.call(Op.DECIDE, 1, "forward again");
  }

  @ParameterizedTest
  @MethodSource("policies")
  void tryAcquire_fullBucketReadThenTickerBackAnHour_admitsOnlyWhatWasShown(Policy policy) {
    // the bug this pins: a full bucket seen at t0, drained at t0 - 1h, was full again at t0
    ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - HOUR);
    TokenBucket bucket = TokenBucket.of(policy, ticker);
    long fill = policy.limits().stream().mapToLong(l -> l.fillTime().toNanos()).max().orElseThrow();
    ticker.advance(2 * HOUR + fill);
    long cap = policy.maxPermitsPerRequest();
    assertThat(bucket.availablePermits()).isEqualTo(cap);
    ticker.advance(-HOUR);
    long admitted = drain(bucket);
    assertThat(bucket.tryAcquire()).isFalse();
    ticker.advance(HOUR);
    admitted += drain(bucket);
    assertThat(bucket.tryAcquire()).isFalse();
    // over the clamped instant t0: exactly the capacity, never more
    assertThat(admitted).isEqualTo(cap);
  }

  /** Takes what the bucket shows as available until it shows none, one request at a time. */
  private static long drain(TokenBucket bucket) {
    long taken = 0;
    for (long n = bucket.availablePermits(); n > 0; n = bucket.availablePermits()) {
      assertThat(bucket.tryAcquire(n)).isTrue();
      taken += n;
    }
    return taken;
  }

  @ParameterizedTest
  @ValueSource(longs = {0, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - HOUR / 2})
  void decide_tickerBackwards_neverReportsANegativeWaitNorThrows(long start) {
    ManualTicker ticker = new ManualTicker(start);
    for (Policy policy : policies()) {
      ticker.set(start);
      TokenBucket bucket = TokenBucket.of(policy, ticker);
      bucket.tryAcquire(policy.maxPermitsPerRequest());
      for (long back : new long[] {1, S, HOUR, 100 * YEAR}) {
        ticker.set(start - back);
        Decision d = bucket.decide(1);
        assertThat(d.allowed()).as(policy + " " + back).isFalse();
        assertThat(d.retryAfterNanos()).as(policy + " " + back).isGreaterThanOrEqualTo(1 + back);
        assertThat(d.resetAfterNanos()).as(policy + " " + back).isGreaterThanOrEqualTo(back);
        assertThat(bucket.availablePermits()).isZero();
      }
    }
  }

  // ---- random back-and-forth jumps ----

  @Property(tries = 250)
  void randomJumps_neverAdmitMoreThanTheReferenceOnClampedTime(
      @ForAll("anyPolicy") Policy policy, @ForAll("starts") long start, @ForAll long seed) {
    Random rnd = new Random(seed);
    Clamped c = new Clamped(policy, start);
    long interval = policy.limits().stream()
        .mapToLong(l -> l.emissionInterval().toNanos()).max().orElseThrow();
    long fill = c.longestFill();
    long cap = policy.maxPermitsPerRequest();
    for (int i = 0; i < 200; i++) {
      long jump = switch (rnd.nextInt(10)) {
        case 0 -> 0;
        case 1 -> -HOUR;
        case 2 -> HOUR;
        case 3 -> -(long) (rnd.nextDouble() * 3 * interval);
        case 4 -> (long) (rnd.nextDouble() * 3 * interval);
        case 5 -> -(long) (rnd.nextDouble() * Math.min(fill, 10 * YEAR));
        case 6 -> (long) (rnd.nextDouble() * Math.min(fill, 10 * YEAR));
        case 7 -> -1 - rnd.nextInt(1000);
        default -> 1 + rnd.nextInt(1000);
      };
      c.moveBy(jump);
      long permits = switch (rnd.nextInt(6)) {
        case 0 -> cap;
        case 1 -> cap + 1;
        default -> 1 + (long) (rnd.nextDouble() * Math.min(cap, 5));
      };
      Op op = Op.values()[rnd.nextInt(3)];
      c.call(op, permits, "step " + i);
    }
    // back past the latest reading, long enough to fill: exact again, and full
    c.moveTo(c.max.add(BigInteger.valueOf(fill + 1)));
    c.call(Op.AVAILABLE, 0, "recovered");
    assertThat(c.bucket.availablePermits()).isEqualTo(cap);
    c.call(Op.DECIDE, cap, "recovered");
  }

  // ---- idle for years, huge rates and capacities, wrapping tickers: exact throughout ----

  /** A limit whose fill time is as close to the 2^62 ns bound as the rate allows. */
  static Limit fillAtTheBound(long capacity) {
    BigInteger periodNs = BigInteger.valueOf(S);
    BigInteger[] qr = BigInteger.valueOf(capacity).multiply(periodNs)
        .divideAndRemainder(BigInteger.valueOf(Limit.MAX_FILL_NANOS));
    long n = qr[0].longValueExact() + (qr[1].signum() > 0 ? 1 : 0);
    return new Limit(capacity, Math.max(n, 1), Duration.ofSeconds(1), capacity);
  }

  @Property(tries = 40)
  void idleForYears_inSteps_staysExactAndNeverOverflows(
      @ForAll("extremePolicy") Policy policy, @ForAll("starts") long start, @ForAll long seed) {
    Random rnd = new Random(seed);
    Clamped c = new Clamped(policy, start);
    long cap = policy.maxPermitsPerRequest();
    // 200 years in all, in steps of up to 20 years, each step followed by a few calls
    while (c.t.compareTo(BigInteger.valueOf(200 * YEAR)) < 0) {
      c.moveBy(1 + (long) (rnd.nextDouble() * 20 * YEAR));
      c.call(Op.AVAILABLE, 0, "after years");
      c.call(Op.DECIDE, 1 + (long) (rnd.nextDouble() * cap), "after years");
      c.call(Op.DECIDE, cap, "after years");
      c.moveBy(rnd.nextInt(1000));
      c.call(Op.DECIDE, 1 + rnd.nextInt((int) Math.min(cap, 1000)), "just after");
      c.call(Op.TRY_ACQUIRE, cap + 1, "just after");
    }
  }

  @Property(tries = 40)
  void extremeLimits_randomSchedules_equalTheReferenceExactly(
      @ForAll("extremePolicy") Policy policy, @ForAll("starts") long start, @ForAll long seed) {
    Random rnd = new Random(seed);
    Clamped c = new Clamped(policy, start);
    long cap = policy.maxPermitsPerRequest();
    long interval = policy.limits().get(0).emissionInterval().toNanos();
    long fill = c.longestFill();
    for (int i = 0; i < 150; i++) {
      c.moveBy(switch (rnd.nextInt(4)) {
        case 0 -> rnd.nextInt(3);
        case 1 -> (long) (rnd.nextDouble() * 3 * interval);
        case 2 -> (long) (rnd.nextDouble() * fill * 1.1);
        default -> (long) (rnd.nextDouble() * cap * 0.01 * interval);
      });
      long permits = switch (rnd.nextInt(4)) {
        case 0 -> cap;
        case 1 -> 1 + (long) (rnd.nextDouble() * cap);
        default -> 1 + (long) (rnd.nextDouble() * cap * 0.01);
      };
      c.call(rnd.nextBoolean() ? Op.DECIDE : Op.TRY_ACQUIRE, permits, "step " + i);
      c.call(Op.AVAILABLE, 0, "step " + i);
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {Long.MAX_VALUE - 1, Long.MAX_VALUE, Long.MIN_VALUE, -1})
  void drainAndRefill_acrossTheWrap_exactForTheLargestNumbers(long start) {
    for (Policy policy : List.of(
        Policy.of(Limit.perSecond(1_000_000_000).withCapacity(Limit.MAX_CAPACITY)),
        Policy.of(fillAtTheBound(Limit.MAX_CAPACITY)),
        Policy.of(fillAtTheBound(1)),
        Policy.of(fillAtTheBound(999_983)))) {
      Clamped c = new Clamped(policy, start);
      long cap = policy.maxPermitsPerRequest();
      c.call(Op.DECIDE, cap, "full");
      c.call(Op.DECIDE, 1, "empty");
      c.moveBy(c.longestFill() / 2);
      c.call(Op.AVAILABLE, 0, "half");
      c.call(Op.DECIDE, Math.max(1, cap / 2), "half");
      c.call(Op.DECIDE, cap, "half");
      c.moveBy(c.longestFill());
      c.call(Op.DECIDE, cap, "full again");
      c.moveBy(Long.MAX_VALUE / 2);
      c.call(Op.AVAILABLE, 0, "idle 146 years");
      c.call(Op.DECIDE, cap, "idle 146 years");
      assertThat(c.admitted).isGreaterThanOrEqualTo(2 * cap);
    }
  }

  // ---- generators ----

  @Provide
  Arbitrary<Long> starts() {
    return Arbitraries.oneOf(
        Arbitraries.longs(),
        Arbitraries.longs().between(Long.MAX_VALUE - 2 * DAY, Long.MAX_VALUE),
        Arbitraries.longs().between(Long.MIN_VALUE, Long.MIN_VALUE + HOUR),
        Arbitraries.just(Long.MAX_VALUE - 1));
  }

  @Provide
  Arbitrary<Policy> extremePolicy() {
    return Arbitraries.of(
        Policy.of(Limit.perSecond(1_000_000_000).withCapacity(Limit.MAX_CAPACITY)),
        Policy.of(Limit.perSecond(1_000_000_000).withCapacity(1)),
        Policy.of(new Limit(Limit.MAX_CAPACITY, 1_000_000, Duration.ofSeconds(1), 0)),
        Policy.of(fillAtTheBound(Limit.MAX_CAPACITY)),
        Policy.of(fillAtTheBound(1)),
        Policy.of(fillAtTheBound(1_000_003)),
        Policy.of(Limit.of(1, Duration.ofDays(1))),
        Policy.of(new Limit(Limit.MAX_CAPACITY, Integer.MAX_VALUE, Duration.ofSeconds(7),
            Limit.MAX_CAPACITY / 3)),
        Policy.of(Limit.perSecond(1_000_000_000).withCapacity(Limit.MAX_CAPACITY),
            fillAtTheBound(Limit.MAX_CAPACITY / 7), Limit.of(1, Duration.ofDays(1))));
  }

  @Provide
  Arbitrary<Policy> anyPolicy() {
    // random limits from a seed (nested flatMaps make jqwik's edge-case combinations explode)
    return Arbitraries.oneOf(
        Arbitraries.of(policies()),
        Arbitraries.longs().map(seed -> Policy.of(randomLimit(new Random(seed)))),
        Arbitraries.longs().map(seed -> {
          Random rnd = new Random(seed);
          return rnd.nextBoolean()
              ? Policy.of(randomLimit(rnd), randomLimit(rnd))
              : Policy.of(randomLimit(rnd), randomLimit(rnd), randomLimit(rnd));
        }));
  }

  /** A limit anywhere in the supported range: period 1 ns to 10 days, any valid rate and capacity. */
  static Limit randomLimit(Random rnd) {
    long period = rnd.nextBoolean()
        ? new long[] {1, 1000, S, 7 * S, 60 * S, HOUR, DAY}[rnd.nextInt(7)]
        : 1 + (long) (rnd.nextDouble() * 10 * DAY);
    long maxN = Math.min(period, Integer.MAX_VALUE);
    long n = rnd.nextBoolean() ? 1 + (long) (rnd.nextDouble() * maxN)
        : 1 + rnd.nextInt((int) Math.min(maxN, 100));
    long maxCap = BigInteger.valueOf(Limit.MAX_FILL_NANOS).multiply(BigInteger.valueOf(n))
        .divide(BigInteger.valueOf(period))
        .min(BigInteger.valueOf(Limit.MAX_CAPACITY)).longValueExact();
    if (maxCap < 1) {
      return Limit.of(n, Duration.ofNanos(period));
    }
    long cap = rnd.nextBoolean() ? 1 + rnd.nextInt((int) Math.min(maxCap, 50))
        : 1 + (long) (rnd.nextDouble() * (maxCap - 1));
    return new Limit(cap, n, Duration.ofNanos(period), rnd.nextBoolean() ? cap : cap / 2);
  }
}
