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

/**
 * Reservations against the exact reference ({@link ReferenceBucket}), on random schedules of
 * reservations (waits bounded at random, at exactly the wait needed and one nanosecond below),
 * takes, cancels (of the latest reservation and of earlier ones) and time steps, for one limit
 * and two, fractional intervals included, from any start instant:
 * <ul>
 *   <li>every outcome and due instant equals the reference's, and the due instant is the
 *       earliest at which the exact bucket holds the permits (it holds them then, not one
 *       nanosecond before);</li>
 *   <li>the permits admitted by their due instants (takes at theirs; cancelled reservations
 *       removed) satisfy {@code admitted <= C + floor(W * rate)} in every window, per limit;</li>
 *   <li>a cancel gives back exactly when the written rule says so.</li>
 * </ul>
 */
class ReservationPropertiesTest {

  private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

  @Property(tries = 300)
  void reservations_oneLimit_matchTheExactBucketAndKeepTheBound(
      @ForAll("limits") Limit limit, @ForAll("starts") long start, @ForAll("seeds") long seed) {
    run(Policy.of(limit), start, seed);
  }

  @Property(tries = 150)
  void reservations_twoLimits_matchTheExactBucketAndKeepTheBound(
      @ForAll("limits") Limit a, @ForAll("limits") Limit b, @ForAll("starts") long start,
      @ForAll("seeds") long seed) {
    run(Policy.of(a, b), start, seed);
  }

  /** A written entry of the bucket: a reservation (id >= 0) or any other write (-1). */
  private record Write(int id, BigInteger[] before) {}

  /** Permits admitted at an instant (unwrapped ns from the start). */
  private record Admitted(BigInteger at, long permits, int id) {}

  private static void run(Policy policy, long start, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    ManualTicker ticker = new ManualTicker(start);
    TokenBucket bucket = TokenBucket.of(policy, ticker);
    ReferenceBucket ref = new ReferenceBucket(policy, BigInteger.ZERO);
    long cap = policy.maxPermitsPerRequest();
    double interval = 0;
    for (Limit l : policy.limits()) {
      interval = Math.max(interval, (double) l.refillPeriod().toNanos() / l.refillPermits());
    }
    BigInteger now = BigInteger.ZERO;
    List<Reservation> reservations = new ArrayList<>();
    List<BigInteger> dues = new ArrayList<>();
    List<Boolean> settled = new ArrayList<>();
    List<Admitted> admitted = new ArrayList<>();
    Deque<Write> writes = new ArrayDeque<>();
    for (int step = 0; step < 120; step++) {
      String where = "step " + step + " of " + policy + " from " + start;
      long adv = switch (rnd.nextInt(5)) {
        case 0 -> 0;
        case 1 -> 1 + rnd.nextLong(3);
        case 2 -> (long) Math.min(1e15, interval * rnd.nextDouble() * 3);
        default -> (long) Math.min(1e15, interval * rnd.nextDouble());
      };
      ticker.advance(adv);
      now = now.add(BigInteger.valueOf(adv));
      long n = rnd.nextInt(10) == 0 ? cap + 1 : 1 + rnd.nextLong(Math.min(cap, 4));
      int op = rnd.nextInt(10);
      if (op < 6) {
        // reserve with a random bound, the exact wait, or one nanosecond less
        BigInteger due = n > cap ? null : ref.dueFor(now, n);
        if (due != null) {
          assertThat(ref.has(due, n)).as(where).isTrue();
          assertThat(due.equals(now) || !ref.has(due.subtract(BigInteger.ONE), n))
              .as("%s: the due instant is the earliest", where).isTrue();
        }
        long needed = due == null ? 0 : due.subtract(now).longValueExact();
        long maxWait = switch (rnd.nextInt(5)) {
          case 0 -> needed;
          case 1 -> Math.max(0, needed - 1);
          case 2 -> 0;
          case 3 -> Long.MAX_VALUE;
          default -> (long) (rnd.nextDouble() * 2 * needed);
        };
        Reservation r = bucket.reserve(n, Duration.ofNanos(maxWait));
        boolean expectGranted = due != null && needed <= Math.min(maxWait, 1L << 61);
        assertThat(r.granted()).as("%s: reserve %d within %d ns (needs %d)", where, n, maxWait,
            needed).isEqualTo(expectGranted);
        assertThat(r.exceedsCapacity()).as(where).isEqualTo(n > cap);
        if (due != null) {
          assertThat(r.dueAt() - start).as("%s: due", where).isEqualTo(wrap(due));
          assertThat(r.delay()).as(where).isEqualTo(Duration.ofNanos(needed));
        }
        if (expectGranted) {
          writes.push(new Write(reservations.size(), ref.state()));
          ref.reserveAt(due, n);
          admitted.add(new Admitted(due, n, reservations.size()));
        } else if (ref.recordsReading(now)) {
          writes.push(new Write(-1, null));
        }
        reservations.add(r);
        dues.add(due);
        settled.add(!expectGranted);
      } else if (op < 8) {
        boolean expect = n <= cap && ref.has(now, n);
        assertThat(bucket.tryAcquire(n)).as("%s: take %d", where, n).isEqualTo(expect);
        if (expect) {
          writes.push(new Write(-1, null));
          ref.take(now, n);
          admitted.add(new Admitted(now, n, -1));
        } else if (ref.recordsReading(now)) {
          writes.push(new Write(-1, null));
        }
      } else if (!reservations.isEmpty()) {
        // cancel the latest reservation most of the time, else any
        int id = rnd.nextInt(3) > 0 ? reservations.size() - 1 : rnd.nextInt(reservations.size());
        boolean expect = !settled.get(id) && !writes.isEmpty() && writes.peek().id() == id
            && dues.get(id).compareTo(now) > 0;
        assertThat(reservations.get(id).cancel()).as("%s: cancel #%d", where, id)
            .isEqualTo(expect);
        settled.set(id, true);
        if (expect) {
          ref.restore(writes.pop().before());
          final int gone = id;
          admitted.removeIf(a -> a.id() == gone);
        }
      }
    }
    checkBound(policy, admitted, start);
  }

  /** admitted in [a, b] <= C + floor((b - a) * N / P) for every limit and every pair of instants. */
  private static void checkBound(Policy policy, List<Admitted> admitted, long start) {
    List<Admitted> sorted = new ArrayList<>(admitted);
    sorted.sort((x, y) -> x.at().compareTo(y.at()));
    for (Limit l : policy.limits()) {
      BigInteger n = BigInteger.valueOf(l.refillPermits());
      BigInteger p = BigInteger.valueOf(l.refillPeriod().toNanos());
      for (int i = 0; i < sorted.size(); i++) {
        long sum = 0;
        for (int j = i; j < sorted.size(); j++) {
          sum += sorted.get(j).permits();
          BigInteger w = sorted.get(j).at().subtract(sorted.get(i).at());
          BigInteger bound = BigInteger.valueOf(l.capacity()).add(w.multiply(n).divide(p));
          assertThat(BigInteger.valueOf(sum)).as("window of %s ns for %s from %s", w, l, start)
              .isLessThanOrEqualTo(bound);
        }
      }
    }
  }

  private static long wrap(BigInteger x) {
    return x.mod(TWO_64).longValue();
  }

  @Provide
  Arbitrary<Long> seeds() {
    return Arbitraries.longs();
  }

  @Provide
  Arbitrary<Long> starts() {
    return ExactnessPropertiesTest.anyStart();
  }

  @Provide
  Arbitrary<Limit> limits() {
    return ExactnessPropertiesTest.anyLimit();
  }
}
