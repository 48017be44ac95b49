package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * Live policy changes while reservations are pending: a bucket in debt (permits reserved for
 * later) keeps its debt across the change, never forgiven and never brought forward: each limit
 * in debt is empty at the later of its old empty instant and the permits owed at the new rate. Checked against the exact reference ({@link ReferenceBucket}) on random
 * schedules of reservations, takes, cancels, time steps and {@link RateLimiter#updatePolicy},
 * and on one timeline written out.
 *
 * <p>The reference follows the store: a change reaches a key at its next reservation or take,
 * converted at that call's reading; a cancel made before then finds its bucket unconverted and
 * gives back by the cancel rule; a cancel after the conversion gives nothing back (the
 * conversion was a later write to its bucket).
 */
class ReservationPolicyChangeTest {

  private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);
  private static final long MS = 1_000_000L;
  private static final String KEY = "k";

  /**
   * 10 per second (burst 1), with reservations due at 100 to 500 ms: a change to 20 per second
   * must not admit before 500 ms. Converting the debt of 5 permits at the new rate alone would
   * make the bucket empty at 250 ms and admit a permit at 300 ms beside the reservation due
   * then: two permits in an instant where the new capacity is 1. The debt keeps its instant:
   * the next permit is the new policy's, at 550 ms.
   */
  @Test
  void fasterRate_debtKeepsItsInstant_noPermitAheadOfAReservation() {
    ManualTicker t = new ManualTicker(Long.MAX_VALUE - 200 * MS);
    RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10).withCapacity(1))
        .ticker(t).build();
    assertThat(limiter.tryAcquire(KEY)).isTrue();
    List<Reservation> pending = reserveFive(limiter);
    limiter.updatePolicy(Policy.of(Limit.perSecond(20).withCapacity(1)));
    assertThat(limiter.tryAcquire(KEY)).as("the debt is not permits").isFalse();
    assertThat(limiter.decide(KEY, 1).retryAfterNanos()).isEqualTo(550 * MS);
    t.advance(300 * MS);
    assertThat(limiter.tryAcquire(KEY)).as("300 ms is the reservation's").isFalse();
    t.advance(250 * MS);
    assertThat(limiter.tryAcquire(KEY)).isTrue();
    assertThat(pending.get(4).cancel()).as("due, and written over since").isFalse();
  }

  /**
   * The same debt, changed to 5 per second: the 5 permits owed take 1 s at the new rate, later
   * than the old empty instant (500 ms), so the next permit is at 1.2 s.
   */
  @Test
  void slowerRate_debtOwedInPermitsAtTheNewRate() {
    ManualTicker t = new ManualTicker(0);
    RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10).withCapacity(1))
        .ticker(t).build();
    assertThat(limiter.tryAcquire(KEY)).isTrue();
    reserveFive(limiter);
    limiter.updatePolicy(Policy.of(Limit.perSecond(5).withCapacity(1)));
    assertThat(limiter.decide(KEY, 1).retryAfterNanos()).isEqualTo(1200 * MS);
    Reservation next = limiter.reserve(KEY, 1, Duration.ofSeconds(2));
    assertThat(next.delay()).isEqualTo(Duration.ofMillis(1200));
  }

  private static List<Reservation> reserveFive(RateLimiter<String> limiter) {
    List<Reservation> pending = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      Reservation r = limiter.reserve(KEY, 1, Duration.ofSeconds(1));
      assertThat(r.granted()).isTrue();
      assertThat(r.delay()).isEqualTo(Duration.ofMillis(100L * i));
      pending.add(r);
    }
    return pending;
  }

  /** A cancel before the key's next call finds its bucket unconverted: it gives back. */
  @Test
  void cancelBeforeTheKeysNextCall_givesBackUnderTheOldPolicy() {
    ManualTicker t = new ManualTicker(0);
    RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10).withCapacity(10))
        .ticker(t).build();
    assertThat(limiter.tryAcquire(KEY, 10)).isTrue();
    Reservation r = limiter.reserve(KEY, 5, Duration.ofSeconds(1));
    assertThat(r.delay()).isEqualTo(Duration.ofMillis(500));
    limiter.updatePolicy(Policy.of(Limit.perSecond(20).withCapacity(20)));
    assertThat(r.cancel()).isTrue();
    t.advance(100 * MS);
    // empty at 0 under 10/s: 1 permit at 100 ms, carried to 20/s as 1 permit
    assertThat(limiter.tryAcquire(KEY)).isTrue();
    assertThat(limiter.tryAcquire(KEY)).isFalse();
    t.advance(50 * MS);
    assertThat(limiter.tryAcquire(KEY)).isTrue();
  }

  @Property(tries = 200)
  void reservationsAndLiveChanges_matchTheExactBucket(@ForAll("pools") List<Policy> pool,
      @ForAll("starts") long start, @ForAll("seeds") long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    ManualTicker ticker = new ManualTicker(start);
    Policy policy = pool.get(0);
    RateLimiter<String> limiter = RateLimiter.builder(policy).ticker(ticker).build();
    ReferenceBucket ref = new ReferenceBucket(policy, BigInteger.ZERO);
    BigInteger now = BigInteger.ZERO;
    // the key's bucket is made at 0 by a take of 1 (a bucket refused while full is not kept)
    boolean first = ref.has(now, 1);
    assertThat(limiter.tryAcquire(KEY)).isEqualTo(first);
    if (first) {
      ref.take(now, 1);
    }
    List<Reservation> reservations = new ArrayList<>();
    List<BigInteger> dues = new ArrayList<>();
    List<Boolean> settled = new ArrayList<>();
    Deque<Write> writes = new ArrayDeque<>();
    for (int step = 0; step < 120; step++) {
      String where = "step " + step + " under " + policy + " from " + start + " seed " + seed;
      long adv = switch (rnd.nextInt(5)) {
        case 0 -> 0;
        case 1 -> 1 + rnd.nextLong(3);
        case 2 -> (long) Math.min(1e15, interval(policy) * rnd.nextDouble() * 3);
        default -> (long) Math.min(1e15, interval(policy) * rnd.nextDouble());
      };
      ticker.advance(adv);
      now = now.add(BigInteger.valueOf(adv));
      long cap = policy.maxPermitsPerRequest();
      long n = rnd.nextInt(10) == 0 ? cap + 1 : 1 + rnd.nextLong(Math.min(cap, 4));
      int op = rnd.nextInt(12);
      if (op < 2) {
        policy = pool.get(rnd.nextInt(pool.size()));
        limiter.updatePolicy(policy);
      } else if (op < 8) {
        if (follow(ref, policy, now)) {
          writes.push(new Write(-1, null));
        }
        BigInteger due = n > cap ? null : ref.dueFor(now, n);
        BigInteger wait = due == null ? BigInteger.ZERO : due.subtract(now);
        long needed = wait.min(BigInteger.valueOf(Long.MAX_VALUE)).longValueExact();
        long maxWait = switch (rnd.nextInt(4)) {
          case 0 -> needed;
          case 1 -> Math.max(0, needed - 1);
          case 2 -> Long.MAX_VALUE;
          default -> (long) (rnd.nextDouble() * 2 * needed);
        };
        Reservation r = limiter.reserve(KEY, n, Duration.ofNanos(maxWait));
        boolean expect = due != null && needed <= Math.min(maxWait, 1L << 61);
        assertThat(r.granted()).as("%s: reserve %d within %d ns (needs %d)", where, n, maxWait,
            needed).isEqualTo(expect);
        assertThat(r.exceedsCapacity()).as(where).isEqualTo(n > cap);
        if (due != null && wait.bitLength() < 62) {
          assertThat(r.dueAt() - start).as("%s: due", where).isEqualTo(wrap(due));
        }
        if (expect) {
          writes.push(new Write(reservations.size(), ref.state()));
          ref.reserveAt(due, n);
        } else if (ref.recordsReading(now)) {
          writes.push(new Write(-1, null));
        }
        reservations.add(r);
        dues.add(due);
        settled.add(!expect);
      } else if (op < 10) {
        if (follow(ref, policy, now)) {
          writes.push(new Write(-1, null));
        }
        boolean expect = n <= cap && ref.has(now, n);
        assertThat(limiter.tryAcquire(KEY, n)).as("%s: take %d", where, n).isEqualTo(expect);
        if (expect) {
          writes.push(new Write(-1, null));
          ref.take(now, n);
        } else if (ref.recordsReading(now)) {
          writes.push(new Write(-1, null));
        }
      } else if (!reservations.isEmpty()) {
        int id = rnd.nextInt(3) > 0 ? reservations.size() - 1 : rnd.nextInt(reservations.size());
        boolean expect = !settled.get(id) && !writes.isEmpty() && writes.peek().id() == id
            && dues.get(id).compareTo(now) > 0;
        assertThat(reservations.get(id).cancel()).as("%s: cancel #%d", where, id)
            .isEqualTo(expect);
        settled.set(id, true);
        if (expect) {
          ref.restore(writes.pop().before());
        }
      }
    }
    limiter.close();
  }

  /** A written entry of the bucket: a reservation (id >= 0) or any other write (-1). */
  private record Write(int id, BigInteger[] before) {}

  /** The reference meets the key's call under {@code p}: true if it converted (a write). */
  private static boolean follow(ReferenceBucket ref, Policy p, BigInteger now) {
    if (ref.policy().equals(p)) {
      return false;
    }
    ref.convert(p, now);
    return true;
  }

  private static double interval(Policy policy) {
    double interval = 0;
    for (Limit l : policy.limits()) {
      interval = Math.max(interval, (double) l.refillPeriod().toNanos() / l.refillPermits());
    }
    return interval;
  }

  private static long wrap(BigInteger x) {
    return x.mod(TWO_64).longValue();
  }

  @Provide
  Arbitrary<List<Policy>> pools() {
    return ExactnessPropertiesTest.anyLimit().list().ofMinSize(1).ofMaxSize(2).map(Policy::new)
        .list().ofMinSize(2).ofMaxSize(3);
  }

  @Provide
  Arbitrary<Long> starts() {
    return ExactnessPropertiesTest.anyStart();
  }

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }
}
