package dev.sluice;

import java.math.BigInteger;
import java.util.List;

/**
 * The slow, obviously exact token bucket that Sluice is checked against: unbounded integers, time
 * never wraps, every limit kept in units of {@code 1/den} ns where {@code T = num/den}. It knows
 * nothing of Sluice's engines.
 *
 * <p>Besides taking, it follows the two written rules for changing a bucket:
 * <ul>
 *   <li><b>Carry-over</b> ({@link #convert}): at a change of policy, each limit of the new policy
 *       keeps the permits that the limit at the same position holds at that instant (a fraction
 *       included), capped at its new capacity, and refills at its new rate from then:
 *       {@code emptyAt' = now - min(C', tokens(now)) * T'}, rounded toward fewer permits where
 *       the new grain (1/den' ns) cannot hold it; a limit in debt (empty after {@code now}) is
 *       empty no earlier than it was ({@code emptyAt' = max(that, emptyAt)}), a debt capped at
 *       {@link #MAX_DEBT}; a limit
 *       with no counterpart starts as a new
 *       bucket's would, with its initial permits.</li>
 *   <li><b>Refund</b> ({@link #refund}) of {@code n} permits held up to {@code held} ns:
 *       {@code emptyAt' = max(emptyAt - max(0, n*T - held), now - C*T)}: never more than was
 *       taken, never above full.</li>
 * </ul>
 */
final class ReferenceBucket {

  /**
   * The most debt a conversion carries, in nanoseconds of the new interval (the engines' bound,
   * 2^62: about 146 years, reached only by reservations pending across changes to slower
   * limits, see {@code ReservationPolicyChangeTest}).
   */
  static final BigInteger MAX_DEBT = BigInteger.ONE.shiftLeft(62);

  private Policy policy;
  private List<Limit> limits;
  private BigInteger[] num;
  private BigInteger[] den;
  /** Per limit: the empty instant, in units of 1/den[i] ns, on the unwrapped time line. */
  private BigInteger[] emptyAt;

  ReferenceBucket(Policy policy, BigInteger start) {
    compile(policy);
    for (int i = 0; i < limits.size(); i++) {
      emptyAt[i] = start.multiply(den[i])
          .subtract(BigInteger.valueOf(limits.get(i).initialPermits()).multiply(num[i]));
    }
  }

  /** Sets the policy and its intervals in lowest terms; the empty instants are the caller's. */
  private void compile(Policy p) {
    this.policy = p;
    this.limits = p.limits();
    int n = limits.size();
    num = new BigInteger[n];
    den = new BigInteger[n];
    emptyAt = new BigInteger[n];
    for (int i = 0; i < n; i++) {
      Limit l = limits.get(i);
      BigInteger period = BigInteger.valueOf(l.refillPeriod().toNanos());
      BigInteger k = BigInteger.valueOf(l.refillPermits());
      BigInteger g = period.gcd(k);
      num[i] = period.divide(g);
      den[i] = k.divide(g);
    }
  }

  /** The policy the bucket is under now. */
  Policy policy() {
    return policy;
  }

  /**
   * The carry-over rule at {@code now}: see the class comment. Exact: tokens are the rational
   * {@code s / num} with {@code s = now*den - emptyAt} (capped at {@code C*num}; negative for a
   * bucket in debt, which is carried); the new span {@code tokens * num'} is floored, which is
   * toward fewer permits.
   */
  void convert(Policy to, BigInteger now) {
    BigInteger[] oldNum = num;
    BigInteger[] oldEmptyAt = emptyAt;
    BigInteger[] oldDen = den;
    List<Limit> oldLimits = limits;
    compile(to);
    for (int j = 0; j < limits.size(); j++) {
      BigInteger newFull = BigInteger.valueOf(limits.get(j).capacity()).multiply(num[j]);
      BigInteger span;
      if (j < oldLimits.size()) {
        BigInteger s = now.multiply(oldDen[j]).subtract(oldEmptyAt[j])
            .min(BigInteger.valueOf(oldLimits.get(j).capacity()).multiply(oldNum[j]));
        span = floorDiv(s.multiply(num[j]), oldNum[j]).min(newFull);
        if (s.signum() < 0) {
          span = span.min(floorDiv(s.multiply(den[j]), oldDen[j])); // empty no earlier than before
        }
        span = span.max(MAX_DEBT.multiply(den[j]).negate());
      } else {
        span = BigInteger.valueOf(limits.get(j).initialPermits()).multiply(num[j]);
      }
      emptyAt[j] = now.multiply(den[j]).subtract(span);
    }
  }

  /**
   * Gives back {@code permits} held up to {@code heldNanos}: see the class comment. A bucket with
   * permits reserved for later (some limit empty after {@code now}) gives nothing back.
   */
  void refund(BigInteger now, long permits, BigInteger heldNanos) {
    for (int i = 0; i < limits.size(); i++) {
      if (emptyAt[i].compareTo(now.multiply(den[i])) > 0) {
        return;
      }
    }
    for (int i = 0; i < limits.size(); i++) {
      BigInteger back = num[i].multiply(BigInteger.valueOf(permits))
          .subtract(heldNanos.multiply(den[i])).max(BigInteger.ZERO);
      BigInteger low = now.multiply(den[i])
          .subtract(BigInteger.valueOf(limits.get(i).capacity()).multiply(num[i]));
      emptyAt[i] = emptyAt[i].subtract(back).max(low);
    }
  }

  /**
   * The earliest instant, at or after {@code now}, at which every limit holds {@code permits}
   * (whole nanoseconds, rounded up): {@code max(now, max_i ceil(max(emptyAt_i, now - C_i*T_i) +
   * n*T_i))}. The caller checks it against {@link #has} at that instant and one before.
   */
  BigInteger dueFor(BigInteger now, long permits) {
    BigInteger due = now;
    for (int i = 0; i < limits.size(); i++) {
      BigInteger ready = base(i, now).add(num[i].multiply(BigInteger.valueOf(permits)));
      due = due.max(ceilDiv(ready, den[i]));
    }
    return due;
  }

  /** Reserves: every limit charged as if the permits were taken at {@code due}. */
  void reserveAt(BigInteger due, long permits) {
    take(due, permits);
  }

  /** Whether some limit is strictly fuller than full would be recorded (the engine records it). */
  boolean recordsReading(BigInteger now) {
    boolean any = false;
    for (int i = 0; i < limits.size(); i++) {
      BigInteger low = now.multiply(den[i])
          .subtract(BigInteger.valueOf(limits.get(i).capacity()).multiply(num[i]));
      if (emptyAt[i].compareTo(low) < 0) {
        emptyAt[i] = low;
        any = true;
      }
    }
    return any;
  }

  /** A copy of the state, for {@link #restore}. */
  BigInteger[] state() {
    return emptyAt.clone();
  }

  /** Puts a state from {@link #state} back. */
  void restore(BigInteger[] state) {
    emptyAt = state.clone();
  }

  /** Whether every limit is full at {@code now}. */
  boolean full(BigInteger now) {
    return untilFull(now) == 0;
  }

  private static BigInteger floorDiv(BigInteger a, BigInteger b) {
    BigInteger[] qr = a.divideAndRemainder(b);
    return qr[1].signum() < 0 ? qr[0].subtract(BigInteger.ONE) : qr[0];
  }

  private BigInteger base(int i, BigInteger now) {
    BigInteger low = now.multiply(den[i]).subtract(BigInteger.valueOf(limits.get(i).capacity()).multiply(num[i]));
    return emptyAt[i].max(low);
  }

  /** Exact permits in limit i at now, as a rational numerator over num[i] (tokens = x / num). */
  private BigInteger tokensScaled(int i, BigInteger now) {
    return now.multiply(den[i]).subtract(base(i, now)).max(BigInteger.ZERO);
  }

  /** Whether every limit holds at least {@code permits} (exact, fractional tokens counted). */
  boolean has(BigInteger now, long permits) {
    for (int i = 0; i < limits.size(); i++) {
      if (tokensScaled(i, now).compareTo(num[i].multiply(BigInteger.valueOf(permits))) < 0) {
        return false;
      }
    }
    return true;
  }

  /** Takes permits from every limit; the caller checked {@link #has}. */
  void take(BigInteger now, long permits) {
    for (int i = 0; i < limits.size(); i++) {
      emptyAt[i] = base(i, now).add(num[i].multiply(BigInteger.valueOf(permits)));
    }
  }

  /** Whole permits available: the fewest over the limits. */
  long available(BigInteger now) {
    long min = Long.MAX_VALUE;
    for (int i = 0; i < limits.size(); i++) {
      min = Math.min(min, tokensScaled(i, now).divide(num[i]).longValueExact());
    }
    return min;
  }

  /**
   * The limit a decision on {@code permits} reports: for a request above a capacity, the first
   * limit of the smallest capacity (it can never fit there); otherwise the first with the fewest
   * whole permits.
   */
  int binding(BigInteger now, long permits) {
    int minCap = 0;
    for (int i = 1; i < limits.size(); i++) {
      if (limits.get(i).capacity() < limits.get(minCap).capacity()) {
        minCap = i;
      }
    }
    if (permits > limits.get(minCap).capacity()) {
      return minCap;
    }
    long min = Long.MAX_VALUE;
    int at = 0;
    for (int i = 0; i < limits.size(); i++) {
      long k = tokensScaled(i, now).divide(num[i]).longValueExact();
      if (k < min) {
        min = k;
        at = i;
      }
    }
    return at;
  }

  /** Whole permits in limit {@code i}. */
  long availableIn(int i, BigInteger now) {
    return tokensScaled(i, now).divide(num[i]).longValueExact();
  }

  /** Nanoseconds, rounded up, until every limit holds {@code permits}; 0 if they do now. */
  long waitFor(BigInteger now, long permits) {
    BigInteger max = BigInteger.ZERO;
    for (int i = 0; i < limits.size(); i++) {
      BigInteger ready = base(i, now).add(num[i].multiply(BigInteger.valueOf(permits)));
      BigInteger wait = ceilDiv(ready.subtract(now.multiply(den[i])), den[i]);
      max = max.max(wait);
    }
    return max.longValueExact();
  }

  /** Nanoseconds, rounded up, until every limit is full. */
  long untilFull(BigInteger now) {
    BigInteger max = BigInteger.ZERO;
    for (int i = 0; i < limits.size(); i++) {
      BigInteger full = base(i, now).add(BigInteger.valueOf(limits.get(i).capacity()).multiply(num[i]));
      max = max.max(ceilDiv(full.subtract(now.multiply(den[i])), den[i]));
    }
    return max.longValueExact();
  }

  private static BigInteger ceilDiv(BigInteger a, BigInteger b) {
    BigInteger[] qr = a.divideAndRemainder(b);
    return qr[1].signum() > 0 ? qr[0].add(BigInteger.ONE) : qr[0];
  }
}
