package dev.sluice;

import java.math.BigInteger;
import java.util.List;

/**
 * The slow, obviously exact token bucket that Sluice is checked against: unbounded integers, time
 * never wraps, every limit kept in units of {@code 1/den} ns where {@code T = num/den}. It knows
 * nothing of Sluice's engines.
 */
final class ReferenceBucket {

  private final List<Limit> limits;
  private final BigInteger[] num;
  private final BigInteger[] den;
  /** Per limit: the empty instant, in units of 1/den[i] ns, on the unwrapped time line. */
  private final BigInteger[] emptyAt;

  ReferenceBucket(Policy policy, BigInteger start) {
    this.limits = policy.limits();
    int n = limits.size();
    num = new BigInteger[n];
    den = new BigInteger[n];
    emptyAt = new BigInteger[n];
    for (int i = 0; i < n; i++) {
      Limit l = limits.get(i);
      BigInteger p = BigInteger.valueOf(l.refillPeriod().toNanos());
      BigInteger k = BigInteger.valueOf(l.refillPermits());
      BigInteger g = p.gcd(k);
      num[i] = p.divide(g);
      den[i] = k.divide(g);
      emptyAt[i] = start.multiply(den[i]).subtract(BigInteger.valueOf(l.initialPermits()).multiply(num[i]));
    }
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
