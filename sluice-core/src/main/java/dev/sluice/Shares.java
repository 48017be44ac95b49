package dev.sluice;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One node's share of a policy while the store cannot decide ({@link FailureMode#LOCAL}), when
 * the store reports {@code N} live nodes ({@link dev.sluice.spi.RateStore#liveNodes()}).
 *
 * <p>The rule, limit by limit (a multi-limit policy divides each of its limits by the same
 * {@code N}, all-or-nothing as before): with the rate {@code r/P} in lowest terms,
 * <ul>
 *   <li>capacity {@code C' = max(1, floor(C / N))}: at least one permit, so a node can always
 *       admit something;</li>
 *   <li>rate {@code r / (P * N)}, exact (the period is multiplied, the numerator stays within
 *       {@link Limit#MAX_REDUCED_PERMITS}); only when that would take longer than
 *       {@link Limit#MAX_FILL_NANOS} to fill {@code C'} (a limit slower than one permit per
 *       146/N years) is the period shortened to that bound, a share rounded up;</li>
 *   <li>a bucket that started full starts full ({@code C'}); one that started with {@code I}
 *       starts with {@code min(C', floor(I / N))}.</li>
 * </ul>
 * So N nodes together hold at most {@code max(C, N)} permits and refill at the policy's rate:
 * the fleet's local buckets admit in a window {@code W} at most {@code N * C' + W * r / P}.
 * {@code N = 1} is the policy itself.
 */
final class Shares {

  private Shares() {}

  private static final BigInteger MAX_FILL = BigInteger.valueOf(Limit.MAX_FILL_NANOS);
  private static final BigInteger MAX_LONG = BigInteger.valueOf(Long.MAX_VALUE);

  /**
   * The share of {@code policy} one of {@code nodes} nodes enforces.
   *
   * @throws IllegalArgumentException if {@code nodes < 1}
   */
  static Policy of(Policy policy, long nodes) {
    if (nodes < 1) {
      throw new IllegalArgumentException("nodes (" + nodes + ") must be at least 1");
    }
    if (nodes == 1) {
      return policy;
    }
    List<Limit> shares = new ArrayList<>(policy.limits().size());
    for (Limit l : policy.limits()) {
      shares.add(of(l, nodes));
    }
    return new Policy(shares);
  }

  /** One limit's share; see the class comment. */
  static Limit of(Limit limit, long nodes) {
    long capacity = Math.max(1, limit.capacity() / nodes);
    long period = limit.refillPeriod().toNanos();
    long gcd = Limit.gcd(period, limit.refillPermits());
    long permits = limit.refillPermits() / gcd;
    BigInteger n = BigInteger.valueOf(nodes);
    BigInteger sharePeriod = BigInteger.valueOf(period / gcd).multiply(n);
    // ceil(C' * P' / r) <= MAX_FILL  <=>  C' * P' <= MAX_FILL * r
    BigInteger longest = MAX_FILL.multiply(BigInteger.valueOf(permits))
        .divide(BigInteger.valueOf(capacity));
    long p = sharePeriod.min(longest).min(MAX_LONG).longValueExact();
    long initial = limit.initialPermits() == limit.capacity() ? capacity
        : Math.min(capacity, limit.initialPermits() / nodes);
    return new Limit(capacity, permits, Duration.ofNanos(p), initial);
  }
}
