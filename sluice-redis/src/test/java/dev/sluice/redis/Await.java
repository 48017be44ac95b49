package dev.sluice.redis;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** A bounded wait for a condition (no fixed sleeps in tests). */
final class Await {

  private Await() {}

  /**
   * Polls {@code condition} every {@code pollMicros} until it holds or {@code timeout} passes.
   *
   * @return the nanoseconds it took
   * @throws AssertionError if it never held
   */
  static long until(Duration timeout, long pollMicros, BooleanSupplier condition, String what) {
    long start = System.nanoTime();
    long end = start + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("not within " + timeout + ": " + what);
      }
      LockSupport.parkNanos(pollMicros * 1_000L);
    }
    return System.nanoTime() - start;
  }

  static long until(Duration timeout, BooleanSupplier condition, String what) {
    return until(timeout, 1_000, condition, what);
  }
}
