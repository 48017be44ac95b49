package dev.sluice.redis;

import java.util.function.LongSupplier;

/**
 * The clocks one store reads. In production ({@link #REDIS}) the script reads Redis's
 * {@code TIME}, the only clock that decides, and the deny cache measures this node's waits on
 * {@link System#nanoTime()}. The factory takes another source only from code in this package
 * (tests, for exact timelines): the script's {@code now} is then its last argument, and its keys
 * never expire, since Redis's clock would not agree with the caller's; the deny cache must then
 * read a clock that moves with the script's.
 *
 * @param scriptMicros the script's {@code now} in µs since 2025-01-01T00:00:00Z, or null to read
 *     Redis's {@code TIME}
 * @param cacheNanos the deny cache's clock, in nanoseconds
 */
record Clocks(LongSupplier scriptMicros, LongSupplier cacheNanos) {

  /** Redis's {@code TIME} for the script, {@link System#nanoTime()} for the deny cache. */
  static final Clocks REDIS = new Clocks(null, System::nanoTime);
}
