package dev.sluice.internal;

import dev.sluice.Ticker;
import java.lang.ref.WeakReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The optional cleaner: a daemon thread that drops every expired bucket (full for at least the
 * table's grace period) of one table once per interval, so that memory held for keys that stopped coming is returned even when no new key
 * arrives (the request path only cleans when keys are inserted). It holds its table weakly, so a
 * store that is dropped without being closed does not keep the thread alive, and the thread ends
 * at its next wake-up. {@link #stop()} ends it and waits for it.
 */
public final class Cleaner implements Runnable {

  private static final System.Logger LOG = System.getLogger(Cleaner.class.getName());
  private static final long STOP_WAIT_MILLIS = 10_000;

  private final WeakReference<BucketTable<?>> table;
  private final Ticker ticker;
  private final long intervalNanos;
  private final Thread thread;
  private volatile boolean stopped;

  private Cleaner(String threadName, BucketTable<?> table, Ticker ticker, long intervalNanos) {
    this.table = new WeakReference<>(table);
    this.ticker = ticker;
    this.intervalNanos = intervalNanos;
    this.thread = new Thread(this, threadName);
    this.thread.setDaemon(true);
  }

  /**
   * Starts a cleaner for {@code table}.
   *
   * @param threadName the thread's name
   * @param table the table to clean
   * @param ticker the store's ticker (fullness is judged at its readings)
   * @param intervalNanos the pause between passes, positive
   * @return the running cleaner
   */
  public static Cleaner start(
      String threadName, BucketTable<?> table, Ticker ticker, long intervalNanos) {
    Cleaner s = new Cleaner(threadName, table, ticker, intervalNanos);
    s.thread.start();
    return s;
  }

  /**
   * The cleaner's thread (for tests and diagnostics).
   *
   * @return the thread
   */
  public Thread thread() {
    return thread;
  }

  /** Runs passes until stopped or until the table is no longer referenced. */
  @Override
  public void run() {
    while (!stopped) {
      long deadline = System.nanoTime() + intervalNanos;
      for (long left = intervalNanos; left > 0 && !stopped; left = deadline - System.nanoTime()) {
        LockSupport.parkNanos(this, left);
      }
      if (stopped || !pass()) {
        return;
      }
    }
  }

  /** One pass; false if the table is gone. The strong reference lives only in this frame. */
  private boolean pass() {
    BucketTable<?> t = table.get();
    if (t == null) {
      return false;
    }
    try {
      t.expireAll(ticker.read(), true, () -> stopped);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "sluice cleaner pass failed; will retry", e);
    }
    return true;
  }

  /** Stops the thread and waits (up to 10 s) for it to end. Idempotent. */
  public void stop() {
    stopped = true;
    LockSupport.unpark(thread);
    if (Thread.currentThread() == thread) {
      return;
    }
    try {
      thread.join(STOP_WAIT_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
