package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Sluice against {@link ReferenceBucket}, a slow exact bucket in unbounded integers, over random
 * limits across the whole supported range (fractional intervals included), random start
 * instants (near {@code Long.MAX_VALUE} too, so the ticker wraps) and random schedules, some of
 * them hours or years of simulated time.
 *
 * <p>The issue asks for two properties: Sluice never admits a request the reference cannot pay
 * for (no over-admission), and never refuses one the reference could serve with a permit to
 * spare (no drift). Sluice is exact, so the check here is the stronger one that implies both:
 * every decision equals the reference's, field by field (allowed, remaining, limit, retryAfter
 * rounded up to the nanosecond, resetAfter).
 */
class ExactnessPropertiesTest {

  private static final long SECOND = 1_000_000_000L;
  private static final long DAY = 86_400L * SECOND;

  record Step(long advanceNanos, long permits, boolean booleanPath) {}

  @Property(tries = 400)
  void oneLimit_randomSchedules_equalTheExactBucket(
      @ForAll("limits") Limit limit, @ForAll("starts") long start, @ForAll("seeds") long seed) {
    replay(Policy.of(limit), start, steps(limit, seed, 300));
  }

  @Property(tries = 150)
  void severalLimits_randomSchedules_equalTheExactBucket(
      @ForAll("limits") Limit a, @ForAll("limits") Limit b, @ForAll("limits") Limit c,
      @ForAll("starts") long start, @ForAll("seeds") long seed) {
    Limit shortest = a.fillTime().compareTo(b.fillTime()) < 0 ? a : b;
    replay(Policy.of(a, b, c), start, steps(shortest, seed, 300));
  }

  /** Hours of simulated time at high fractional rates, the bucket kept near empty: drift shows here. */
  @Property(tries = 12)
  void fractionalRates_hoursUnderLoad_noDrift(
      @ForAll("fractionalHighRates") Limit limit, @ForAll("starts") long start, @ForAll("seeds") long seed) {
    java.util.Random rnd = new java.util.Random(seed);
    List<Step> steps = new ArrayList<>();
    long t = 0;
    long period = limit.refillPeriod().toNanos();
    while (t < 3 * 3600 * SECOND) {
      long adv = 1 + (long) (rnd.nextDouble() * 3 * SECOND);
      t += adv;
      // ask for about what has refilled, so the bucket stays near empty
      long permits = Math.max(1, Math.min(limit.capacity(),
          (long) ((double) adv * limit.refillPermits() / period * (0.9 + 0.2 * rnd.nextDouble()))));
      steps.add(new Step(adv, permits, false));
    }
    replay(Policy.of(limit), start, steps);
  }

  private static void replay(Policy policy, long start, List<Step> steps) {
    ManualTicker ticker = new ManualTicker(start);
    TokenBucket bucket = TokenBucket.of(policy, ticker);
    ReferenceBucket ref = new ReferenceBucket(policy, BigInteger.valueOf(start));
    BigInteger now = BigInteger.valueOf(start);
    long maxPermits = policy.maxPermitsPerRequest();
    int i = 0;
    for (Step step : steps) {
      i++;
      ticker.advance(step.advanceNanos());
      now = now.add(BigInteger.valueOf(step.advanceNanos()));
      long n = step.permits();
      String where = "step " + i + " at t=" + now + " permits=" + n + " policy=" + policy;
      boolean expected = n <= maxPermits && ref.has(now, n);
      assertThat(bucket.availablePermits()).as(where).isEqualTo(ref.available(now));
      if (step.booleanPath()) {
        assertThat(bucket.tryAcquire(n)).as(where).isEqualTo(expected);
        if (expected) {
          ref.take(now, n);
        }
        continue;
      }
      Decision d = bucket.decide(n);
      assertThat(d.allowed()).as(where + " " + d).isEqualTo(expected);
      if (expected) {
        ref.take(now, n);
        assertThat(d.retryAfterNanos()).as(where).isZero();
      } else if (n <= maxPermits) {
        assertThat(d.retryAfterNanos()).as(where + " " + d).isEqualTo(ref.waitFor(now, n));
      } else {
        assertThat(d.canEverSucceed()).as(where).isFalse();
        assertThat(d.retryAfter()).as(where).isEmpty();
      }
      int binding = ref.binding(now, n);
      assertThat(d.bindingIndex()).as(where + " " + d).isEqualTo(binding);
      assertThat(d.remaining()).as(where + " " + d).isEqualTo(ref.availableIn(binding, now));
      assertThat(d.limit()).as(where + " " + d).isEqualTo(policy.limits().get(binding).capacity());
      assertThat(d.resetAfterNanos()).as(where + " " + d).isEqualTo(ref.untilFull(now));
    }
  }

  /** Steps whose advances are scaled to the limit: sub-interval, around the interval, around the fill time, and huge. */
  private static List<Step> steps(Limit limit, long seed, int count) {
    java.util.Random rnd = new java.util.Random(seed);
    long interval = limit.emissionInterval().toNanos();
    long fill = limit.fillTime().toNanos();
    long cap = limit.capacity();
    List<Step> steps = new ArrayList<>(count);
    long total = 0;
    for (int i = 0; i < count; i++) {
      long adv;
      switch (rnd.nextInt(10)) {
        case 0 -> adv = 0;
        case 1 -> adv = rnd.nextInt(3);
        case 2, 3, 4 -> adv = (long) (rnd.nextDouble() * 3 * interval);
        case 5, 6 -> adv = (long) (rnd.nextDouble() * Math.min(fill, 10 * 365 * DAY) * 1.2);
        case 7 -> adv = (long) (rnd.nextDouble() * 7 * DAY); // days idle
        // years idle; a schedule stays within 200 years in all, as the engine supports gaps up
        // to 2^63 ns (292 years) between two writes to one bucket
        case 8 -> adv = total < 150 * 365 * DAY ? (long) (rnd.nextDouble() * 20 * 365 * DAY) : 0;
        default -> adv = 1 + rnd.nextInt(1000);
      }
      long permits;
      switch (rnd.nextInt(8)) {
        case 0 -> permits = cap;
        case 1 -> permits = cap + 1 + rnd.nextInt(3);
        case 2 -> permits = 1 + (long) (rnd.nextDouble() * cap);
        default -> permits = 1 + rnd.nextInt((int) Math.min(cap, 5));
      }
      total += adv;
      steps.add(new Step(adv, permits, rnd.nextInt(4) == 0));
    }
    return steps;
  }

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }

  @Provide
  Arbitrary<Long> starts() {
    return anyStart();
  }

  /** Start instants anywhere, near both ends of {@code long} (so the ticker wraps), and near 0. */
  static Arbitrary<Long> anyStart() {
    return Arbitraries.oneOf(
        Arbitraries.longs(),
        Arbitraries.longs().between(Long.MAX_VALUE - 10 * DAY, Long.MAX_VALUE),
        Arbitraries.longs().between(Long.MIN_VALUE, Long.MIN_VALUE + DAY),
        Arbitraries.longs().between(-DAY, DAY));
  }

  @Provide
  Arbitrary<Limit> limits() {
    return anyLimit();
  }

  /** Limits across the supported range: fractional intervals, the extreme capacities, starts below full. */
  static Arbitrary<Limit> anyLimit() {
    Arbitrary<Long> periods = Arbitraries.oneOf(
        Arbitraries.of(SECOND, 7 * SECOND, 60 * SECOND, 3600 * SECOND, DAY, 1000L, 1L),
        Arbitraries.longs().between(1, 10 * DAY));
    return periods.flatMap(period -> {
      long maxN = Math.min(period, Integer.MAX_VALUE);
      Arbitrary<Long> ns = Arbitraries.oneOf(
          Arbitraries.longs().between(1, maxN),
          Arbitraries.longs().between(1, Math.min(maxN, 1000)),
          Arbitraries.of(1L, 7L, 10L, 999_983L, 1_000_000_000L).filter(n -> n <= maxN));
      return ns.flatMap(n -> {
        BigInteger maxCapByFill = BigInteger.valueOf(Limit.MAX_FILL_NANOS)
            .multiply(BigInteger.valueOf(n)).divide(BigInteger.valueOf(period));
        long maxCap = maxCapByFill.min(BigInteger.valueOf(Limit.MAX_CAPACITY)).longValueExact();
        if (maxCap < 1) {
          return Arbitraries.just(Limit.of(n, Duration.ofNanos(period)));
        }
        Arbitrary<Long> caps = Arbitraries.oneOf(
            Arbitraries.longs().between(1, Math.min(maxCap, 100)),
            Arbitraries.longs().between(1, maxCap),
            Arbitraries.just(maxCap));
        return Combinators.combine(caps, Arbitraries.integers().between(0, 2), Arbitraries.doubles().between(0, 1))
            .as((cap, initKind, frac) -> {
              long initial = switch (initKind) {
                case 0 -> cap;
                case 1 -> 0L;
                default -> (long) (cap * frac);
              };
              return new Limit(cap, n, Duration.ofNanos(period), initial);
            });
      });
    });
  }

  @Provide
  Arbitrary<Limit> fractionalHighRates() {
    return Arbitraries.of(
        new Limit(1_000_000L, 999_983L, Duration.ofSeconds(7), 1_000_000L),
        new Limit(50_000L, 100_003L, Duration.ofSeconds(1), 0L),
        new Limit(7L, 7L, Duration.ofSeconds(1), 7L),
        new Limit(1_000L, 999_999_937L, Duration.ofSeconds(1), 1_000L),
        new Limit(10_000_000L, 2_147_483_647L, Duration.ofSeconds(7), 0L));
  }
}
