package dev.sluice;

import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Makes a store failure visible without metrics: one {@code WARNING} line through
 * {@link System.Logger} (logger {@code dev.sluice.RateLimiter}; the JDK sends it to
 * {@code java.util.logging} unless the application installs another backend) when the failure
 * mode answers, at most one per limiter per {@link #INTERVAL_NANOS}, saying how many answers
 * were not logged since the last line. Lock-free: one CAS decides which thread logs; the others
 * only count. An exception from the logger is swallowed, like a listener's.
 */
final class FailureLog {

  /** One line per minute at most. */
  static final long INTERVAL_NANOS = 60_000_000_000L;

  private final String limiter;
  private final FailureMode mode;
  /** Null: {@code System.getLogger("dev.sluice.RateLimiter")}, looked up when used. */
  private final System.Logger logger;
  private final LongSupplier clock;
  private final long interval;
  /** When the next line may be logged (the first: at once), on {@link #clock}. */
  private final AtomicLong next;
  private final AtomicLong unlogged = new AtomicLong();

  /**
   * The limiter's log. The JDK's logger is looked up when the first line is logged, not before:
   * a limiter that never fails holds no logger (nor what the logging backend hangs on it).
   */
  FailureLog(String limiter, FailureMode mode) {
    this(limiter, mode, null, System::nanoTime, INTERVAL_NANOS);
  }

  FailureLog(String limiter, FailureMode mode, System.Logger logger, LongSupplier clock,
      long intervalNanos) {
    this.limiter = limiter;
    this.mode = mode;
    this.logger = logger;
    this.clock = clock;
    this.interval = intervalNanos;
    this.next = new AtomicLong(clock.getAsLong());
  }

  /** The store failed with {@code error} and the failure mode answers. */
  void failed(Throwable error) {
    long now = clock.getAsLong();
    long due = next.get();
    if (now - due < 0 || !next.compareAndSet(due, now + interval)) {
      unlogged.incrementAndGet();
      return;
    }
    long skipped = unlogged.getAndSet(0);
    try {
      System.Logger l = logger != null ? logger : System.getLogger(RateLimiter.class.getName());
      l.log(Level.WARNING, "rate limiter " + limiter + ": the store failed (" + error
          + "); the failure mode " + mode + " answers"
          + (skipped == 0 ? "" : " (" + skipped + " more answers since the last line)")
          + "; next line in " + interval / 1_000_000_000L + " s at most");
    } catch (RuntimeException ignored) {
      // logging cannot change a decision
    }
  }
}
