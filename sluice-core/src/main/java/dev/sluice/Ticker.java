package dev.sluice;

/**
 * A source of monotonic time in nanoseconds, the only clock Sluice reads.
 *
 * <p>Values are meaningful only relative to each other: compare two readings by subtraction
 * ({@code a - b > 0}), never with {@code >}, so that a ticker that wraps past
 * {@link Long#MAX_VALUE} keeps working. Each public Sluice call reads its ticker once.
 *
 * <p>A ticker that goes backwards is tolerated: Sluice never mints permits from it and never
 * reports a negative wait (see {@link TokenBucket}).
 */
@FunctionalInterface
public interface Ticker {

  /**
   * Returns the current reading in nanoseconds.
   *
   * @return nanoseconds since an arbitrary, fixed origin
   */
  long read();

  /**
   * Returns the ticker backed by {@link System#nanoTime()}: monotonic, unaffected by wall-clock
   * steps (NTP, manual changes).
   *
   * @return the system ticker
   */
  static Ticker system() {
    return SystemTicker.INSTANCE;
  }
}

/** The {@link System#nanoTime()} ticker, an enum singleton. */
enum SystemTicker implements Ticker {
  INSTANCE;

  @Override
  public long read() {
    return System.nanoTime();
  }
}
