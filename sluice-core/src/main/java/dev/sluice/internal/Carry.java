package dev.sluice.internal;

import java.math.BigInteger;

/**
 * The carry-over rule: what a bucket holds when its policy changes. At the change, each limit of
 * the new policy keeps the permits the limit at the same position held at that instant, capped
 * at its new capacity, and refills at its new rate from then:
 * <pre>
 *   emptyAt' = now - min(C', tokens(now)) * T'      where tokens(now) = (now - max(emptyAt, now - C*T)) / T
 * </pre>
 * {@code tokens(now)} is exact and may be fractional, or negative (a bucket in debt: its empty
 * instant is after {@code now}, after reservations or a ticker that went back). A debt is carried
 * over, never forgiven, and never brought forward: a limit in debt is empty at the later of
 * {@code now - tokens(now) * T'} (the permits owed, at the new rate) and its old empty instant
 * ({@code emptyAt' = max(that, emptyAt)}), so a faster new rate cannot admit a permit ahead of
 * one reserved under the old rate. The new state is rounded up to the new interval's grain (1/den ns),
 * so a conversion gives up less than one nanosecond of refill where the new grain cannot
 * represent the old permits, and never gains any. A limit of the new policy with no counterpart
 * (the new policy has more limits) starts as a new bucket's would, with its initial permits.
 *
 * <p>Used only when a key's policy changes, once per key and change: exact arithmetic in
 * {@link BigInteger}, allocations allowed.
 */
final class Carry {

  /** The most debt carried over, in nanoseconds of the new interval: 2^62. */
  private static final BigInteger MAX_DEBT = BigInteger.ONE.shiftLeft(62);

  private Carry() {}

  /**
   * The state under {@code to} of a bucket whose state under {@code from} is {@code parts}.
   *
   * @param from the engine the state was written under
   * @param parts per limit of {@code from}: whole nanoseconds and fraction numerator
   * @param to the new engine
   * @param now the ticker reading at the change
   * @return per limit of {@code to}: whole nanoseconds and fraction numerator
   */
  static long[] convert(Engine from, long[] parts, Engine to, long now) {
    Interval[] olds = from.limits;
    Interval[] news = to.limits;
    long[] out = new long[2 * news.length];
    for (int j = 0; j < news.length; j++) {
      Interval nv = news[j];
      BigInteger num2 = BigInteger.valueOf(nv.num);
      // the new span now - emptyAt', in units of 1/den' ns
      BigInteger span;
      BigInteger full = BigInteger.valueOf(nv.capacity).multiply(num2);
      if (j < olds.length) {
        Interval ov = olds[j];
        BigInteger num = BigInteger.valueOf(ov.num);
        // s = now - emptyAt in units of 1/den ns (compared by subtraction: tickers may wrap)
        BigInteger s = BigInteger.valueOf(now - parts[2 * j])
            .multiply(BigInteger.valueOf(ov.den))
            .subtract(BigInteger.valueOf(parts[2 * j + 1]));
        // tokens = s / num, capped at the old capacity (a full bucket holds C)
        BigInteger oldFull = BigInteger.valueOf(ov.capacity).multiply(num);
        if (s.compareTo(oldFull) > 0) {
          s = oldFull;
        }
        // span' = tokens * T' * den' = s * num' / num, rounded toward fewer permits (down)
        BigInteger[] qr = s.multiply(num2).divideAndRemainder(num);
        span = qr[0];
        if (qr[1].signum() < 0) {
          span = span.subtract(BigInteger.ONE);
        }
        if (span.compareTo(full) > 0) {
          span = full;
        }
        if (s.signum() < 0) {
          // in debt: the new limit is empty no earlier than the old one was (the same instant,
          // in the new grain, rounded later), so permits reserved under the old rate stay
          // ahead of every permit of the new one
          BigInteger[] tq = s.multiply(BigInteger.valueOf(nv.den))
              .divideAndRemainder(BigInteger.valueOf(ov.den));
          BigInteger kept = tq[1].signum() < 0 ? tq[0].subtract(BigInteger.ONE) : tq[0];
          span = span.min(kept);
        }
        BigInteger debt = MAX_DEBT.multiply(BigInteger.valueOf(nv.den)).negate();
        if (span.compareTo(debt) < 0) {
          span = debt;
        }
      } else {
        span = BigInteger.valueOf(nv.init).multiply(num2);
      }
      // emptyAt' = now - span'/den', as (ns, f) with 0 <= f < den'
      BigInteger[] ab = span.divideAndRemainder(BigInteger.valueOf(nv.den));
      long a = ab[0].longValueExact();
      long b = ab[1].longValueExact();
      if (b < 0) {
        b += nv.den;
        a -= 1;
      }
      if (b == 0) {
        out[2 * j] = now - a;
        out[2 * j + 1] = 0;
      } else {
        out[2 * j] = now - a - 1;
        out[2 * j + 1] = nv.den - b;
      }
    }
    return out;
  }
}
