package dev.sluice;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Ticker} that moves only when told, for deterministic tests (yours and ours).
 *
 * <p>It may start anywhere, including near {@link Long#MAX_VALUE}; advancing past the largest
 * {@code long} wraps around, which Sluice handles because it compares readings by subtraction.
 * It may also be moved backwards, to test what happens when a clock misbehaves. Thread-safe.
 */
public final class ManualTicker implements Ticker {

  private final AtomicLong nanos;

  /** Creates a ticker reading zero. */
  public ManualTicker() {
    this(0L);
  }

  /**
   * Creates a ticker with the given first reading.
   *
   * @param startNanos the first reading, any {@code long}
   */
  public ManualTicker(long startNanos) {
    this.nanos = new AtomicLong(startNanos);
  }

  @Override
  public long read() {
    return nanos.get();
  }

  /**
   * Moves the ticker by {@code delta}, which may be negative.
   *
   * @param delta how far to move
   * @return this ticker
   * @throws NullPointerException if {@code delta} is null
   * @throws ArithmeticException if {@code delta} does not fit in a {@code long} of nanoseconds
   */
  public ManualTicker advance(Duration delta) {
    Objects.requireNonNull(delta, "delta");
    return advance(delta.toNanos());
  }

  /**
   * Moves the ticker by {@code deltaNanos}, which may be negative; wraps past the ends of
   * {@code long}.
   *
   * @param deltaNanos how far to move, in nanoseconds
   * @return this ticker
   */
  public ManualTicker advance(long deltaNanos) {
    nanos.addAndGet(deltaNanos);
    return this;
  }

  /**
   * Sets the reading.
   *
   * @param nanosValue the new reading
   * @return this ticker
   */
  public ManualTicker set(long nanosValue) {
    nanos.set(nanosValue);
    return this;
  }

  @Override
  public String toString() {
    return "ManualTicker[" + nanos.get() + "ns]";
  }
}
