package dev.sluice;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Objects;

/**
 * One token-bucket limit: a bucket holding at most {@code capacity} permits, refilled with
 * {@code refillPermits} every {@code refillPeriod} (continuously, one permit every
 * {@code refillPeriod / refillPermits}), starting with {@code initialPermits}.
 *
 * <p>"10 per second with bursts of 50" is {@code Limit.perSecond(10).withCapacity(50)}; "7 per
 * second" is {@code Limit.perSecond(7)} (a fractional emission interval of 142,857,142 6/7 ns,
 * handled exactly); "1 per day" is {@code Limit.of(1, Duration.ofDays(1))}.
 *
 * <p>Supported range, checked when the limit is built (an out-of-range value is refused with a
 * message naming the value and the bound):
 * <ul>
 *   <li>rate at most one permit per nanosecond (10<sup>9</sup> per second):
 *       {@code refillPermits <= refillPeriod} in nanoseconds;</li>
 *   <li>{@code 1 <= capacity <= 10^15} and {@code 0 <= initialPermits <= capacity};</li>
 *   <li>the time to fill an empty bucket, {@code capacity * refillPeriod / refillPermits}, at most
 *       {@value #MAX_FILL_NANOS} ns (about 146 years);</li>
 *   <li>once {@code refillPermits / refillPeriod} is reduced to lowest terms, a numerator of at
 *       most {@value #MAX_REDUCED_PERMITS} (so {@code 999_983} per 7 s and 3&times;10<sup>9</sup>
 *       per 3 s are fine, {@code 3_000_000_001} per 4 s is refused).</li>
 * </ul>
 *
 * @param capacity the most permits the bucket holds (the burst)
 * @param refillPermits how many permits are added every {@code refillPeriod}
 * @param refillPeriod the period over which {@code refillPermits} are added
 * @param initialPermits how many permits a new bucket starts with
 */
public record Limit(long capacity, long refillPermits, Duration refillPeriod, long initialPermits) {

  /** Largest capacity: 10<sup>15</sup> permits. */
  public static final long MAX_CAPACITY = 1_000_000_000_000_000L;

  /** Largest time to fill an empty bucket: 2<sup>62</sup> ns, about 146 years. */
  public static final long MAX_FILL_NANOS = 1L << 62;

  /** Largest numerator of the rate in lowest terms (permits per nanosecond): 2<sup>31</sup> - 1. */
  public static final long MAX_REDUCED_PERMITS = Integer.MAX_VALUE;

  /**
   * Checks every bound; see the class comment.
   *
   * @param capacity the most permits the bucket holds (the burst)
   * @param refillPermits how many permits are added every {@code refillPeriod}
   * @param refillPeriod the period over which {@code refillPermits} are added
   * @param initialPermits how many permits a new bucket starts with
   * @throws IllegalArgumentException if a value is out of range (the message names it and the bound)
   * @throws NullPointerException if {@code refillPeriod} is null
   */
  public Limit {
    Objects.requireNonNull(refillPeriod, "refillPeriod");
    if (refillPermits < 1) {
      throw new IllegalArgumentException(
          "permits per period (" + refillPermits + " per " + refillPeriod + ") must be at least 1");
    }
    if (refillPeriod.isNegative() || refillPeriod.isZero()) {
      throw new IllegalArgumentException(
          "refillPeriod (" + refillPeriod + ") must be positive");
    }
    long periodNanos;
    try {
      periodNanos = refillPeriod.toNanos();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "refillPeriod (" + refillPeriod + ") must be at most " + Long.MAX_VALUE + " ns", e);
    }
    if (refillPermits > periodNanos) {
      throw new IllegalArgumentException(
          "rate (" + refillPermits + " per " + refillPeriod
              + ") exceeds the maximum of 1 permit per nanosecond (10^9 per second)");
    }
    if (capacity < 1 || capacity > MAX_CAPACITY) {
      throw new IllegalArgumentException(
          "capacity (" + capacity + ") must be between 1 and " + MAX_CAPACITY);
    }
    if (initialPermits < 0 || initialPermits > capacity) {
      throw new IllegalArgumentException(
          "initialPermits (" + initialPermits + ") must be between 0 and capacity (" + capacity + ")");
    }
    long gcd = gcd(periodNanos, refillPermits);
    long reducedPermits = refillPermits / gcd;
    if (reducedPermits > MAX_REDUCED_PERMITS) {
      String lowest = gcd == 1 ? "its permits (" + reducedPermits + ")"
          : "its permits (" + reducedPermits + " per " + (periodNanos / gcd) + " ns)";
      throw new IllegalArgumentException("rate (" + refillPermits + " per " + periodNanos
          + " ns) cannot be exact: in lowest terms " + lowest + " must be at most "
          + MAX_REDUCED_PERMITS + "; choose a period that divides more evenly");
    }
    BigInteger fill = BigInteger.valueOf(capacity).multiply(BigInteger.valueOf(periodNanos))
        .add(BigInteger.valueOf(refillPermits - 1))
        .divide(BigInteger.valueOf(refillPermits));
    if (fill.compareTo(BigInteger.valueOf(MAX_FILL_NANOS)) > 0) {
      throw new IllegalArgumentException(
          "time to fill an empty bucket (capacity " + capacity + " at " + refillPermits + " per "
              + refillPeriod + " = " + fill + " ns) exceeds the maximum of " + MAX_FILL_NANOS + " ns");
    }
  }

  /**
   * {@code permits} per {@code period}, with a capacity of {@code permits}, starting full.
   *
   * @param permits permits per period, and the capacity
   * @param period the refill period
   * @return the limit
   * @throws IllegalArgumentException if out of range
   */
  public static Limit of(long permits, Duration period) {
    return new Limit(permits, permits, period, permits);
  }

  /**
   * {@code permits} per second, with a capacity of {@code permits}, starting full.
   *
   * @param permits permits per second
   * @return the limit
   */
  public static Limit perSecond(long permits) {
    return of(permits, Duration.ofSeconds(1));
  }

  /**
   * {@code permits} per minute, with a capacity of {@code permits}, starting full.
   *
   * @param permits permits per minute
   * @return the limit
   */
  public static Limit perMinute(long permits) {
    return of(permits, Duration.ofMinutes(1));
  }

  /**
   * {@code permits} per hour, with a capacity of {@code permits}, starting full.
   *
   * @param permits permits per hour
   * @return the limit
   */
  public static Limit perHour(long permits) {
    return of(permits, Duration.ofHours(1));
  }

  /**
   * {@code permits} per day, with a capacity of {@code permits}, starting full.
   *
   * @param permits permits per day
   * @return the limit
   */
  public static Limit perDay(long permits) {
    return of(permits, Duration.ofDays(1));
  }

  /**
   * This limit with another capacity (burst). A bucket that started full starts full again.
   *
   * @param newCapacity the new capacity
   * @return the new limit
   */
  public Limit withCapacity(long newCapacity) {
    long initial = initialPermits == capacity ? newCapacity : Math.min(initialPermits, newCapacity);
    return new Limit(newCapacity, refillPermits, refillPeriod, initial);
  }

  /**
   * This limit with new buckets starting at {@code permits} instead of full.
   *
   * @param permits the permits a new bucket holds
   * @return the new limit
   */
  public Limit withInitialPermits(long permits) {
    return new Limit(capacity, refillPermits, refillPeriod, permits);
  }

  /**
   * The time between two permits, rounded up to a whole nanosecond (exact arithmetic is used
   * inside; this is for display).
   *
   * @return the emission interval
   */
  public Duration emissionInterval() {
    long p = refillPeriod.toNanos();
    return Duration.ofNanos(p / refillPermits + (p % refillPermits == 0 ? 0 : 1));
  }

  /**
   * The time an empty bucket takes to fill, rounded up to a whole nanosecond.
   *
   * @return the fill time
   */
  public Duration fillTime() {
    return Duration.ofNanos(BigInteger.valueOf(capacity)
        .multiply(BigInteger.valueOf(refillPeriod.toNanos()))
        .add(BigInteger.valueOf(refillPermits - 1))
        .divide(BigInteger.valueOf(refillPermits)).longValueExact());
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
