package dev.sluice.internal;

import dev.sluice.Limit;

/**
 * One limit compiled to exact integer arithmetic: the emission interval {@code T = P/N} ns as
 * {@code q + r/den} with {@code 0 <= r < den}, and the products the engine needs.
 */
final class Interval {

  final long capacity;
  final long q;
  final long r;
  final long den;
  final long num;
  /** {@code C*T = fillQ + fillR/den}. */
  final long fillQ;
  final long fillR;
  /** {@code initialPermits*T = initQ + initR/den}. */
  final long initQ;
  final long initR;
  /** The permits a new bucket holds. */
  final long init;

  Interval(Limit limit) {
    long p = limit.refillPeriod().toNanos();
    long n = limit.refillPermits();
    long g = gcd(p, n);
    this.num = p / g;
    this.den = n / g;
    this.q = num / den;
    this.r = num % den;
    this.capacity = limit.capacity();
    this.fillQ = mulQ(capacity);
    this.fillR = mulR(capacity);
    this.initQ = mulQ(limit.initialPermits());
    this.initR = mulR(limit.initialPermits());
    this.init = limit.initialPermits();
  }

  /** Whole nanoseconds of {@code n*T}, for {@code 0 <= n <= C + 1}. */
  long mulQ(long n) {
    if (den == 1) {
      return n * q;
    }
    return n * q + (n / den) * r + ((n % den) * r) / den;
  }

  /** Fraction numerator of {@code n*T}, below {@code den}. */
  long mulR(long n) {
    if (den == 1) {
      return 0;
    }
    return ((n % den) * r) % den;
  }

  /**
   * Whole permits in a span of {@code dNs - dF/den} nanoseconds (0 if the span is not
   * positive), capped at the capacity. Exact: an estimate in doubles, corrected by exact
   * comparisons.
   */
  long permitsIn(long dNs, long dF) {
    if (dNs < 0 || (dNs == 0 && dF > 0)) {
      return 0;
    }
    if (den == 1) {
      long k = dNs / q;
      return k > capacity ? capacity : k;
    }
    // span as (sQ, sR) with 0 <= sR < den
    long sQ = dF > 0 ? dNs - 1 : dNs;
    long sR = dF > 0 ? den - dF : 0;
    long k = (long) (((double) sQ + (double) sR / den) * den / num);
    if (k > capacity) {
      k = capacity;
    }
    if (k < 0) {
      k = 0;
    }
    while (k > 0 && greater(mulQ(k), mulR(k), sQ, sR)) {
      k--;
    }
    while (k < capacity && !greater(mulQ(k + 1), mulR(k + 1), sQ, sR)) {
      k++;
    }
    return k;
  }

  private static boolean greater(long aQ, long aR, long bQ, long bR) {
    return aQ != bQ ? aQ > bQ : aR > bR;
  }

  static long gcd(long a, long b) {
    while (b != 0) {
      long t = a % b;
      a = b;
      b = t;
    }
    return a;
  }
}
