package dev.sluice.internal;

/**
 * What {@link Engine#reserve} did to a bucket: granted (the permits are taken, as debt, and due
 * at {@link #dueAt()}), refused because the wait would pass the caller's bound (nothing taken;
 * {@link #dueAt()} is when they could have been due), or refused for good (more permits than a
 * capacity). A granted ticket remembers the exact state it replaced and the state it wrote, so
 * that {@link Engine#cancel} can put the first back while the second is still there.
 */
public final class Ticket {

  static final int GRANTED = 0;
  static final int TOO_LONG = 1;
  static final int NEVER = 2;

  /** The answer to a request above a capacity: nothing was taken, no wait would help. */
  static final Ticket NEVER_TICKET = new Ticket(null, NEVER, 0, 0, 0, null, null);

  final Holder holder;
  final int outcome;
  final long dueAt;
  /** One-{@code long} holders: the empty instant replaced, and the one written. */
  final long before;
  final long after;
  /** Array holders: the state replaced and the one written (compared by identity). */
  final long[] beforeParts;
  final long[] afterParts;

  Ticket(Holder holder, int outcome, long dueAt, long before, long after, long[] beforeParts,
      long[] afterParts) {
    this.holder = holder;
    this.outcome = outcome;
    this.dueAt = dueAt;
    this.before = before;
    this.after = after;
    this.beforeParts = beforeParts;
    this.afterParts = afterParts;
  }

  static Ticket tooLong(long dueAt) {
    return new Ticket(null, TOO_LONG, dueAt, 0, 0, null, null);
  }

  /**
   * Whether the permits were taken.
   *
   * @return true if granted
   */
  public boolean granted() {
    return outcome == GRANTED;
  }

  /**
   * Whether the request can never be granted (more permits than a capacity).
   *
   * @return true if never
   */
  public boolean never() {
    return outcome == NEVER;
  }

  /**
   * The ticker instant the permits are due (granted), or could have been due (refused for the
   * wait); meaningless when {@link #never()}.
   *
   * @return ticker nanoseconds
   */
  public long dueAt() {
    return dueAt;
  }
}
