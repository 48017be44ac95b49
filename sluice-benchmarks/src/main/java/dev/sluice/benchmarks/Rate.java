package dev.sluice.benchmarks;

import java.time.Duration;

/**
 * One limit, expressed so that every library can be configured from it: {@code permits} per
 * {@code period}, at most {@code capacity} held. Guava has no capacity setting (it holds one
 * second's worth), so its rate is given apart, chosen to behave the same way in the benchmark.
 *
 * @param capacity the burst
 * @param permits permits added every {@code period}
 * @param period the refill period
 * @param guavaPerSecond the rate given to Guava's {@code RateLimiter.create}
 */
record Rate(long capacity, long permits, Duration period, double guavaPerSecond) {

  /** So large it never denies at benchmark speeds: 10^9 per second, capacity 10^15. */
  static final Rate NEVER_DENIES =
      new Rate(1_000_000_000_000_000L, 1_000_000_000L, Duration.ofSeconds(1), 1e9);

  /**
   * For keyed steady state: capacity 10^6, one permit per hour. Never denies in a run (no key gets
   * 10^6 requests) and a bucket that took a permit is not full again for an hour, so lossless
   * expiry never drops it: every decision finds its key present. (A huge refill rate would make
   * every bucket full again within nanoseconds, and a store with lossless expiry would rightly
   * drop and re-create it on every request.) Guava: {@code create(1e9)}, never denies either.
   */
  static final Rate STEADY = new Rate(1_000_000, 1, Duration.ofHours(1), 1e9);

  /**
   * A typical per-client limit, 100 per second with bursts of 100 (Guava's one second of burst is
   * the same). At benchmark speed over 100,000 keys each key sees tens of requests per second, so
   * buckets are often full again between two requests: mixed allowed/denied, and churn for a store
   * that drops full buckets.
   */
  static final Rate HUNDRED_PER_SECOND = new Rate(100, 100, Duration.ofSeconds(1), 100);

  /** One per day: once its one permit is taken, it denies for the rest of the run. */
  static final Rate ONE_PER_DAY = new Rate(1, 1, Duration.ofDays(1), 1.0 / 86_400);

  /**
   * 100 per day, capacity 100: a bucket that took one permit stays non-full (and so is not
   * dropped by lossless expiry) for 864 s, longer than any measurement here.
   */
  static final Rate IDLE = new Rate(100, 100, Duration.ofDays(1), 100.0 / 86_400);
}
