package dev.sluice;

import dev.sluice.internal.Ticket;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.LongPredicate;

/**
 * Permits reserved for a later instant: the answer of {@code reserve}. A granted reservation has
 * taken its permits already, as debt, and they are the caller's from {@link #dueAt()} on (by the
 * ticker of the bucket or limiter that made it); a refused one took nothing.
 *
 * <pre>{@code
 * Reservation r = bucket.reserve(1, Duration.ofMillis(200));
 * if (r.granted()) { sleep(r.delay()); call(); } else { fail(r.delay()); }
 * }</pre>
 *
 * <p>Reservations of one bucket are due in the order they were made, each at the earliest instant
 * the exact bucket holds its permits after those before it, so the permits used at their due
 * instants never exceed {@code capacity + floor(W * rate)} in any window {@code W}.
 *
 * <p><b>Cancelling</b> ({@link #cancel()}) gives the permits back only while the reservation is
 * not due and is still the latest write to its bucket (no later reservation, take, refund or
 * reading has moved the bucket since): the bucket then returns exactly to the state before it.
 * Otherwise nothing is given back, because what came later was decided on the state it wrote and
 * is due where it is; so a cancel never lets more through than the limit. Thread-safe; a
 * reservation is cancelled at most once.
 */
public final class Reservation {

  private static final int GRANTED = 0;
  private static final int TOO_LONG = 1;
  private static final int NEVER = 2;
  private static final int UNAVAILABLE = 3;

  private final int outcome;
  private final long permits;
  private final long reservedAt;
  private final long dueAt;
  private final Ticker ticker;
  /** Gives the permits back at a reading, or null if nothing can be given back. */
  private final LongPredicate giveBack;
  private boolean settled;

  private Reservation(int outcome, long permits, long reservedAt, long dueAt, Ticker ticker,
      LongPredicate giveBack) {
    this.outcome = outcome;
    this.permits = permits;
    this.reservedAt = reservedAt;
    this.dueAt = dueAt;
    this.ticker = ticker;
    this.giveBack = giveBack;
  }

  /** A store's reservation from its engine's ticket, made at reading {@code now}. */
  static Reservation of(Ticket t, long permits, long now, Ticker ticker, LongPredicate giveBack) {
    int outcome = t.granted() ? GRANTED : t.never() ? NEVER : TOO_LONG;
    return new Reservation(outcome, permits, now, t.never() ? now : t.dueAt(), ticker,
        t.granted() ? giveBack : null);
  }

  /**
   * A reservation a {@link dev.sluice.spi.RateStore} made (for store implementations): granted
   * or refused for the wait, at ticker reading {@code reservedAt}, due at reading {@code dueAt}
   * (for a refusal, when it could have been), with {@code cancel} giving a granted one back at a
   * reading if the store's cancel rule allows it (see {@link #cancel()}).
   *
   * @param granted whether the permits were reserved
   * @param permits the permits asked for, at least 1
   * @param reservedAt the ticker reading the reservation was made at
   * @param dueAt the reading it is (or would have been) due at, not before {@code reservedAt}
   * @param ticker the ticker the readings are of
   * @param cancel gives a granted reservation back at a reading; true if it did; may be null
   * @return the reservation
   * @throws IllegalArgumentException if {@code permits < 1} or {@code dueAt} is before
   *     {@code reservedAt}
   */
  public static Reservation ofStore(boolean granted, long permits, long reservedAt, long dueAt,
      Ticker ticker, LongPredicate cancel) {
    if (permits < 1) {
      throw new IllegalArgumentException("permits (" + permits + ") must be at least 1");
    }
    if (dueAt - reservedAt < 0) {
      throw new IllegalArgumentException("dueAt (" + dueAt + ") is before reservedAt ("
          + reservedAt + ")");
    }
    return new Reservation(granted ? GRANTED : TOO_LONG, permits, reservedAt, dueAt,
        java.util.Objects.requireNonNull(ticker, "ticker"), granted ? cancel : null);
  }

  /**
   * A request a store can never grant: more permits than a capacity (for store implementations).
   *
   * @param permits the permits asked for
   * @param now the ticker reading
   * @param ticker the ticker
   * @return the reservation
   */
  public static Reservation neverForStore(long permits, long now, Ticker ticker) {
    return new Reservation(NEVER, permits, now, now, java.util.Objects.requireNonNull(ticker,
        "ticker"), null);
  }

  /** Granted and due at once, with nothing behind it to give back (failure mode OPEN, shadow). */
  static Reservation immediate(long permits, long now, Ticker ticker) {
    return new Reservation(GRANTED, permits, now, now, ticker, null);
  }

  /** Refused because the store could not decide (failure mode CLOSED, a closed limiter). */
  static Reservation unavailable(long permits, long now, Ticker ticker) {
    return new Reservation(UNAVAILABLE, permits, now, now, ticker, null);
  }

  /**
   * Whether the permits were reserved (they are taken; use them from {@link #dueAt()}).
   *
   * @return true if granted
   */
  public boolean granted() {
    return outcome == GRANTED;
  }

  /**
   * Whether the request can never be granted, however long it waits: it asks for more permits
   * than a capacity of the policy. Nothing was taken and no wait was made.
   *
   * @return true if it can never be granted
   */
  public boolean exceedsCapacity() {
    return outcome == NEVER;
  }

  /**
   * The permits asked for.
   *
   * @return permits, at least 1
   */
  public long permits() {
    return permits;
  }

  /**
   * The wait from the reservation to its due instant: zero if the permits were available at
   * once. For a reservation refused because the wait would have passed its bound, the wait it
   * would have needed (longer than the bound; nothing was taken).
   *
   * @return the wait, at least zero, rounded up to the nanosecond
   * @throws IllegalStateException if it {@link #exceedsCapacity()} (no wait is enough) or the
   *     store could not decide
   */
  public Duration delay() {
    return Duration.ofNanos(dueAtChecked() - reservedAt);
  }

  /**
   * The ticker reading from which the permits are the caller's (granted), or from which they
   * could have been (refused for the wait). Readings compare by subtraction ({@link Ticker}).
   *
   * @return ticker nanoseconds
   * @throws IllegalStateException if it {@link #exceedsCapacity()} or the store could not decide
   */
  public long dueAt() {
    return dueAtChecked();
  }

  private long dueAtChecked() {
    if (outcome == NEVER) {
      throw new IllegalStateException("no wait is enough: " + permits
          + " permits exceed a capacity of the policy");
    }
    if (outcome == UNAVAILABLE) {
      throw new IllegalStateException("the store could not decide: no due instant is known");
    }
    return dueAt;
  }

  /**
   * Cancels the reservation: gives its permits back if it is not due yet and nothing has written
   * its bucket since (see the class comment); otherwise the permits stay taken. Reads the ticker
   * once. Only the first call can give anything back.
   *
   * @return whether the permits were given back
   */
  public boolean cancel() {
    LongPredicate back;
    synchronized (this) {
      if (settled || giveBack == null) {
        settled = true;
        return false;
      }
      settled = true;
      back = giveBack;
    }
    long now = ticker.read();
    return dueAt - now > 0 && back.test(now);
  }

  /**
   * Completes with true when the permits are due, without a thread per waiter: on the shared
   * scheduler thread that {@link RateLimiter#acquireAsync} uses (see {@code docs/waiting.md}), or
   * at once if due already; with false at once if the reservation was not granted. For adapters
   * that reserve first and wait later (the HTTP layer's queueing). Cancelling the returned future
   * before it completes cancels the reservation ({@link #cancel()}). Each call schedules anew.
   *
   * @return true when the permits are the caller's, false if not granted
   */
  public CompletionStage<Boolean> whenDue() {
    return Waiting.async(this, Scheduler.shared());
  }

  /** The ticker the due instant is read on. */
  Ticker ticker() {
    return ticker;
  }

  /** The reading the reservation was made at. */
  long reservedAt() {
    return reservedAt;
  }

  /** The due instant, whatever the outcome (for the waiting code, on granted reservations). */
  long due() {
    return dueAt;
  }

  @Override
  public String toString() {
    return switch (outcome) {
      case GRANTED -> "Reservation[granted " + permits + ", delay=" + delay() + "]";
      case TOO_LONG -> "Reservation[refused " + permits + ", would wait " + delay() + "]";
      case NEVER -> "Reservation[refused " + permits + ", exceeds capacity]";
      default -> "Reservation[refused " + permits + ", store unavailable]";
    };
  }
}
