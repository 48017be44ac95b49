package dev.sluice.internal;

import dev.sluice.Decision;
import dev.sluice.Policy;

/**
 * The fast path: one limit whose interval is a whole number of nanoseconds. The state is the
 * empty instant {@code emptyAt} in one {@code long}; a decision is one volatile read and, when
 * admitted, one compare-and-exchange. Nothing is allocated on the boolean path; a failed CAS
 * retries with the witness value, and only because another request was admitted (lock-free).
 *
 * <p>Bounded retries: a CAS fails only because another thread wrote first. An admission moves
 * {@code emptyAt} up by at least one interval, and a request reading {@code now} sees at most {@code C}
 * of those while {@code emptyAt >= now - C*T} before it is refused without a CAS; any other write (an
 * admission or a recorded reading from a thread whose own reading is older, a retirement) happens
 * at most once per other thread while this request runs, given a ticker that does not go back
 * across threads. So a decision makes at most about {@code C + 2 * threads} attempts, and its
 * outcome is the one the sequential bucket gives in CAS order: a retry re-decides from the
 * witness, it never guesses.
 */
final class LongEngine extends Engine {

  private final Interval iv;
  private final long capacity;
  private final long interval;
  private final long fill;
  private final long initFill;

  LongEngine(Policy policy, Interval iv) {
    super(policy, new Interval[] {iv});
    this.iv = iv;
    this.capacity = iv.capacity;
    this.interval = iv.q;
    this.fill = iv.fillQ;
    this.initFill = iv.initQ;
  }

  @Override
  public Holder newHolder(long now) {
    return new LongHolder(this, Holder.live(now - initFill));
  }

  @Override
  public Decision take(Holder h, long now, long permits, boolean report) {
    long low = now - fill;
    long emptyAt = ((LongHolder) h).emptyAt;
    if (permits > capacity) {
      long base = seen(h, emptyAt, low);
      if (Holder.dead(base)) {
        return null;
      }
      return report
          ? Decision.exceedsCapacity(policy, 0, tokens(base, now), base + fill - now)
          : REFUSED;
    }
    long cost = permits * interval;
    for (;;) {
      if (Holder.dead(emptyAt)) {
        return null;
      }
      long base = emptyAt - low < 0 ? low : emptyAt;
      long next = base + cost;
      if (next - now > 0) {
        return report
            ? Decision.denied(policy, 0, tokens(base, now), next - now, base + fill - now)
            : REFUSED;
      }
      long witness = (long) LongHolder.EMPTY_AT.compareAndExchange(h, emptyAt, Holder.live(next));
      if (witness == emptyAt) {
        return report
            ? Decision.allowed(policy, 0, (now - next) / interval, next + fill - now)
            : TAKEN;
      }
      emptyAt = witness;
    }
  }

  @Override
  public Ticket reserve(Holder h, long now, long permits, long maxWaitNanos) {
    long low = now - fill;
    long emptyAt = ((LongHolder) h).emptyAt;
    if (permits > capacity) {
      return Holder.dead(seen(h, emptyAt, low)) ? null : Ticket.NEVER_TICKET;
    }
    long cost = permits * interval;
    for (;;) {
      if (Holder.dead(emptyAt)) {
        return null;
      }
      long base = emptyAt - low < 0 ? low : emptyAt;
      long next = base + cost;
      long wait = next - now;
      if (wait > maxWaitNanos) {
        return Ticket.tooLong(next); // next > now: the bucket is not full, no reading to record
      }
      // one limit: charged at D = max(now, next), max(emptyAt, D - C*T) + n*T is next
      long stored = Holder.live(next);
      long witness = (long) LongHolder.EMPTY_AT.compareAndExchange(h, emptyAt, stored);
      if (witness == emptyAt) {
        return new Ticket(h, Ticket.GRANTED, stored - now > 0 ? stored : now, emptyAt, stored,
            null, null);
      }
      emptyAt = witness;
    }
  }

  @Override
  public boolean cancel(Ticket t, long now) {
    // still the latest write and not due: put back what it replaced (a value that a sentinel
    // never equals, and a state no later write can have reached, see docs/waiting.md)
    return t.dueAt - now > 0 && LongHolder.EMPTY_AT.compareAndSet(t.holder, t.after, t.before);
  }

  @Override
  public boolean refund(Holder h, long now, long permits, long heldNanos) {
    long low = now - fill;
    long earn = permits > capacity ? fill : permits * interval;
    long back = heldNanos >= earn ? 0 : earn - Math.max(0, heldNanos);
    long emptyAt = ((LongHolder) h).emptyAt;
    for (;;) {
      if (Holder.dead(emptyAt)) {
        return false;
      }
      if (emptyAt - now > 0) {
        return true; // permits reserved for later: nothing is given back (see Engine.refund)
      }
      long given = emptyAt - back;
      long next = given - low < 0 ? low : given;
      if (next == emptyAt) {
        return true;
      }
      long witness = (long) LongHolder.EMPTY_AT.compareAndExchange(h, emptyAt, Holder.live(next));
      if (witness == emptyAt) {
        return true;
      }
      emptyAt = witness;
    }
  }

  /**
   * Records the reading on a path that takes nothing: a bucket that is full at {@code now} gets
   * its empty instant moved up to {@code low = now - C*T}. No reading at or after {@code now} can
   * tell the difference, but a ticker that later goes back below {@code now} then finds the
   * permits it already showed as available spent from {@code now}, not from its earlier reading:
   * without this, a full bucket read at {@code t}, drained at {@code t - 1h} and read at {@code t}
   * again would be full twice at {@code t}. (Admissions record their reading anyway, and a
   * refused request for at most the capacity implies a bucket that is not full.)
   *
   * @return the base, {@code max(emptyAt, low)}, or the sentinel if the holder is retired or
   *     moved (nothing is written then)
   */
  private static long seen(Holder h, long emptyAt, long low) {
    while (!Holder.dead(emptyAt) && emptyAt - low < 0) {
      long stored = Holder.live(low);
      long witness = (long) LongHolder.EMPTY_AT.compareAndExchange(h, emptyAt, stored);
      if (witness == emptyAt) {
        return stored;
      }
      emptyAt = witness;
    }
    return emptyAt;
  }

  private long tokens(long base, long now) {
    long span = now - base;
    return span <= 0 ? 0 : span / interval;
  }

  @Override
  public long available(Holder h, long now) {
    long base = seen(h, ((LongHolder) h).emptyAt, now - fill);
    return Holder.dead(base) ? -1 : tokens(base, now);
  }

  @Override
  long[] parts(Holder h) {
    long emptyAt = ((LongHolder) h).emptyAt;
    return Holder.dead(emptyAt) ? null : new long[] {emptyAt, 0};
  }

  @Override
  boolean markMoved(Holder h, long[] parts) {
    return LongHolder.EMPTY_AT.compareAndSet(h, parts[0], Holder.MOVED_BITS);
  }

  @Override
  public boolean retire(Holder h, long[] parts) {
    return LongHolder.EMPTY_AT.compareAndSet(h, parts[0], Holder.RETIRED_BITS);
  }

  @Override
  Holder holderOf(long[] parts) {
    return new LongHolder(this, Holder.live(parts[0]));
  }

  @Override
  public boolean isFull(Holder h, long now) {
    long emptyAt = ((LongHolder) h).emptyAt;
    return Holder.dead(emptyAt) || emptyAt - (now - fill) <= 0;
  }

  @Override
  public long nanosUntilFull(Holder h, long now) {
    long emptyAt = ((LongHolder) h).emptyAt;
    if (Holder.dead(emptyAt)) {
      return 0;
    }
    long until = emptyAt + fill - now;
    return until < 0 ? 0 : until;
  }

  @Override
  public long evictionRank(Holder h, long now) {
    long emptyAt = ((LongHolder) h).emptyAt;
    return Holder.dead(emptyAt) ? -1 : rank(emptyAt, now);
  }

  @Override
  public boolean retire(Holder h, long now, long maxNanosUntilFull) {
    long emptyAt = ((LongHolder) h).emptyAt;
    for (;;) {
      if (Holder.dead(emptyAt)) {
        return false;
      }
      long rank = rank(emptyAt, now);
      if (rank < 0 || rank > maxNanosUntilFull) {
        return false;
      }
      long witness = (long) LongHolder.EMPTY_AT.compareAndExchange(h, emptyAt, Holder.RETIRED_BITS);
      if (witness == emptyAt) {
        return true;
      }
      emptyAt = witness;
    }
  }

  /** -1 if the bucket with empty instant {@code emptyAt} is throttled at {@code now}, else nanoseconds until full. */
  private long rank(long emptyAt, long now) {
    long low = now - fill;
    long base = emptyAt - low < 0 ? low : emptyAt;
    return 2 * tokens(base, now) < capacity ? -1 : base - low;
  }
}
