package dev.sluice.benchmarks;

import java.time.Duration;

/**
 * One limit, expressed so that every library can be configured from it: {@code permits} per
 * {@code period}, at most {@code capacity} held (Guava has no capacity: it holds one second's
 * worth).
 *
 * @param capacity the burst
 * @param permits permits added every {@code period}
 * @param period the refill period
 */
record Rate(long capacity, long permits, Duration period) {

  /** A limit so large it never denies at benchmark speeds: 10^9 per second, capacity 10^15. */
  static final Rate NEVER_DENIES = new Rate(1_000_000_000_000_000L, 1_000_000_000L, Duration.ofSeconds(1));

  /** One per day: once its one permit is taken, it denies for the rest of the run. */
  static final Rate ONE_PER_DAY = new Rate(1, 1, Duration.ofDays(1));

  /**
   * 100 per day, capacity 100: a bucket that took one permit stays non-full (and so is not
   * dropped by lossless expiry) for 864 s, longer than any measurement here.
   */
  static final Rate IDLE = new Rate(100, 100, Duration.ofDays(1));

  /** The rate in permits per second, for Guava. */
  double perSecond() {
    return permits / (period.toNanos() / 1e9);
  }
}
