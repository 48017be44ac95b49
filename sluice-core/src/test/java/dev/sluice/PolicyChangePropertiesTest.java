package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Supplier;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A key of a {@link RateLimiter} (the in-memory store) against {@link ReferenceBucket} while its
 * policy changes and permits are given back in the middle of random schedules: every decision,
 * every read of the permits available and every refund equals the exact bucket's that follows
 * the carry-over rule and the refund rule as written (see {@link ReferenceBucket}).
 *
 * <p>Policies are drawn from the whole supported range (one limit and several, fractional
 * intervals, capacities up to 10<sup>15</sup>, buckets that start below full), so changes cross
 * every pair of engines and both grow and shrink capacities; start instants are random, near
 * both ends of {@code long} too, so the ticker wraps. A change takes effect for a key at its
 * next call that reaches the store (a decision, a refund or a read): the bucket refills at the
 * old rate until then, and is converted at that call's reading. A key with no bucket (before its
 * first call that keeps one: a new bucket that is refused while full is not kept) gets a new
 * bucket of the policy it has then.
 */
class PolicyChangePropertiesTest {

  private static final long SECOND = 1_000_000_000L;
  private static final long DAY = 86_400L * SECOND;
  private static final String KEY = "the-key";

  /** {@link RateLimiter#updatePolicy}: one policy for every key, replaced at random steps. */
  @Property(tries = 200)
  void updatePolicy_randomChangesAndRefunds_everyDecisionEqualsTheExactBucket(
      @ForAll("pools") List<Policy> pool, @ForAll("starts") long start,
      @ForAll("seeds") long seed) {
    ManualTicker ticker = new ManualTicker(start);
    Policy[] current = {pool.get(0)};
    try (RateLimiter<String> limiter =
        RateLimiter.builder(current[0]).ticker(ticker).build()) {
      replay(limiter, ticker, start, seed, () -> current[0], rnd -> {
        current[0] = pool.get(rnd.nextInt(pool.size()));
        limiter.updatePolicy(current[0]);
      });
    }
  }

  /**
   * {@link Plans}: the key moves between three plans (its assignment changes) and plans are
   * updated ({@link Plans#update}), the key's own plan or another.
   */
  @Property(tries = 200)
  void plans_updatesAndReassignmentsAndRefunds_everyDecisionEqualsTheExactBucket(
      @ForAll("pools") List<Policy> pool, @ForAll("starts") long start,
      @ForAll("seeds") long seed) {
    ManualTicker ticker = new ManualTicker(start);
    String[] names = {"free", "pro", "team"};
    Map<String, Policy> expected = new LinkedHashMap<>();
    Plans.Builder<String> builder = Plans.builder();
    for (int i = 0; i < names.length; i++) {
      expected.put(names[i], pool.get(i % pool.size()));
      builder.plan(names[i], expected.get(names[i]));
    }
    String[] assigned = {names[new Random(seed).nextInt(names.length)]};
    Plans<String> plans = builder.assign(key -> assigned[0]).build();
    try (RateLimiter<String> limiter = RateLimiter.builder(plans).ticker(ticker).build()) {
      replay(limiter, ticker, start, seed, () -> expected.get(assigned[0]), rnd -> {
        if (rnd.nextBoolean()) {
          assigned[0] = names[rnd.nextInt(names.length)];
        } else {
          String plan = names[rnd.nextInt(names.length)];
          Policy p = pool.get(rnd.nextInt(pool.size()));
          expected.put(plan, p);
          plans.update(plan, p);
        }
      });
    }
  }

  /**
   * Runs 300 random steps on {@link #KEY}: time advances (scaled to the key's policy: below an
   * interval, around the fill time, days, years), then a change, a refund of an earlier admitted
   * take (at once or later, its time held exact or over-estimated), a read, or a decision.
   */
  private static void replay(RateLimiter<String> limiter, ManualTicker ticker, long start,
      long seed, Supplier<Policy> policyNow, Consumer<Random> change) {
    Random rnd = new Random(seed);
    BigInteger now = BigInteger.valueOf(start);
    ReferenceBucket ref = null; // null: the key holds no bucket
    List<BigInteger[]> out = new ArrayList<>(); // admitted, not given back: {at, permits}
    long total = 0;
    for (int step = 1; step <= 300; step++) {
      Policy p = policyNow.get();
      long adv = advance(rnd, p, total);
      total += adv;
      ticker.advance(adv);
      now = now.add(BigInteger.valueOf(adv));
      String where = "step " + step + " at t=" + now + " policy=" + p + " reference="
          + (ref == null ? "none" : ref.policy());
      assertThat(limiter.policy(KEY)).as(where).isEqualTo(p);
      int action = rnd.nextInt(20);
      if (action < 3) {
        change.accept(rnd);
      } else if (action < 7 && !out.isEmpty()) {
        BigInteger[] take = out.remove(rnd.nextInt(out.size()));
        long n = take[1].longValueExact();
        BigInteger held = now.subtract(take[0]);
        if (rnd.nextInt(4) == 0) {
          held = held.add(BigInteger.valueOf(rnd.nextInt(1_000_000_000))); // an over-estimate
        }
        if (n > p.maxPermitsPerRequest()) {
          // taken under a policy that allowed more: refused at the door, nothing converted
          assertThatThrownBy(() -> limiter.refund(KEY, n, Duration.ZERO)).as(where)
              .isInstanceOf(IllegalArgumentException.class)
              .hasMessageContaining("permits to refund (" + n + ")")
              .hasMessageContaining("from 1 to " + p.maxPermitsPerRequest());
          continue;
        }
        assertThat(limiter.refund(KEY, n, Duration.ofNanos(held.longValueExact()))).as(where)
            .isTrue();
        assertThat(ref).as(where + ": a key that took holds a bucket").isNotNull();
        follow(ref, p, now);
        ref.refund(now, n, held);
      } else if (action < 10) {
        follow(ref, p, now);
        long expected = ref != null ? ref.available(now) : new ReferenceBucket(p, now).available(now);
        assertThat(limiter.availablePermits(KEY)).as(where).isEqualTo(expected);
      } else {
        long n = permits(rnd, p);
        boolean fresh = ref == null;
        if (fresh) {
          ref = new ReferenceBucket(p, now);
        } else {
          follow(ref, p, now);
        }
        boolean expected = n <= p.maxPermitsPerRequest() && ref.has(now, n);
        where += " permits=" + n;
        if (rnd.nextInt(4) == 0) {
          assertThat(limiter.tryAcquire(KEY, n)).as(where).isEqualTo(expected);
          if (expected) {
            ref.take(now, n);
          }
        } else {
          check(limiter.decide(KEY, n), ref, p, now, n, expected, where); // takes if expected
        }
        if (expected) {
          out.add(new BigInteger[] {now, BigInteger.valueOf(n)});
        } else if (fresh && ref.full(now)) {
          ref = null; // a full bucket is no bucket: the store keeps none
        }
      }
    }
  }

  /** The reference meets the key's call under {@code p}: converted if it was under another. */
  private static void follow(ReferenceBucket ref, Policy p, BigInteger now) {
    if (ref != null && !ref.policy().equals(p)) {
      ref.convert(p, now);
    }
  }

  /**
   * Every field of the decision, as {@link ExactnessPropertiesTest} checks them; the reference
   * takes the permits first if it admits the request (the counts are those after the decision).
   */
  private static void check(Decision d, ReferenceBucket ref, Policy p, BigInteger now, long n,
      boolean expected, String where) {
    String at = where + " " + d;
    assertThat(d.allowed()).as(at).isEqualTo(expected);
    if (expected) {
      ref.take(now, n);
      assertThat(d.retryAfterNanos()).as(at).isZero();
    } else if (n <= p.maxPermitsPerRequest()) {
      assertThat(d.retryAfterNanos()).as(at).isEqualTo(ref.waitFor(now, n));
    } else {
      assertThat(d.canEverSucceed()).as(at).isFalse();
    }
    int binding = ref.binding(now, n);
    assertThat(d.bindingIndex()).as(at).isEqualTo(binding);
    assertThat(d.remaining()).as(at).isEqualTo(ref.availableIn(binding, now));
    assertThat(d.limit()).as(at).isEqualTo(p.limits().get(binding).capacity());
    assertThat(d.resetAfterNanos()).as(at).isEqualTo(ref.untilFull(now));
  }

  /** An advance scaled to one of the policy's limits; the whole schedule stays within 200 years. */
  private static long advance(Random rnd, Policy p, long total) {
    Limit l = p.limits().get(rnd.nextInt(p.limits().size()));
    long interval = l.emissionInterval().toNanos();
    long fill = l.fillTime().toNanos();
    if (total > 150 * 365 * DAY) {
      return rnd.nextInt(1000); // the engines support gaps up to 2^63 ns (292 years) between writes
    }
    return switch (rnd.nextInt(10)) {
      case 0 -> 0;
      case 1 -> rnd.nextInt(3);
      case 2, 3, 4 -> (long) (rnd.nextDouble() * 3 * interval);
      case 5, 6 -> (long) (rnd.nextDouble() * Math.min(fill, 10 * 365 * DAY) * 1.2);
      case 7 -> (long) (rnd.nextDouble() * 7 * DAY);
      case 8 -> (long) (rnd.nextDouble() * 20 * 365 * DAY);
      default -> 1 + rnd.nextInt(1000);
    };
  }

  private static long permits(Random rnd, Policy p) {
    long cap = p.maxPermitsPerRequest();
    return switch (rnd.nextInt(8)) {
      case 0 -> cap;
      case 1 -> cap + 1 + rnd.nextInt(3);
      case 2 -> 1 + (long) (rnd.nextDouble() * cap);
      default -> 1 + rnd.nextInt((int) Math.min(cap, 5));
    };
  }

  @Provide
  Arbitrary<List<Policy>> pools() {
    return ExactnessPropertiesTest.anyLimit().list().ofMinSize(1).ofMaxSize(3).map(Policy::new)
        .list().ofMinSize(2).ofMaxSize(4);
  }

  @Provide
  Arbitrary<Long> starts() {
    return ExactnessPropertiesTest.anyStart();
  }

  @Provide
  Arbitrary<Long> seeds() {
    return net.jqwik.api.Arbitraries.longs();
  }
}
