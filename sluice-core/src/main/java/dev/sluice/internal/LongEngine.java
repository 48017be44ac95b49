package dev.sluice.internal;

import dev.sluice.Decision;

/**
 * The fast path: one limit whose interval is a whole number of nanoseconds. The state is the
 * empty instant {@code E} in one {@code long}; a decision is one volatile read and, when
 * admitted, one compare-and-exchange. Nothing is allocated on the boolean path; a failed CAS
 * retries with the witness value, and only because another request was admitted (lock-free).
 *
 * <p>Bounded retries: a CAS fails only because another thread wrote first. An admission moves
 * {@code E} up by at least one interval, and a request reading {@code now} sees at most {@code C}
 * of those while {@code E >= now - C*T} before it is refused without a CAS; any other write (an
 * admission or a recorded reading from a thread whose own reading is older, a retirement) happens
 * at most once per other thread while this request runs, given a ticker that does not go back
 * across threads. So a decision makes at most about {@code C + 2 * threads} attempts, and its
 * outcome is the one the sequential bucket gives in CAS order: a retry re-decides from the
 * witness, it never guesses.
 */
final class LongEngine extends Engine {

  private final long capacity;
  private final long interval;
  private final long fill;
  private final long initFill;

  LongEngine(Interval iv) {
    this.capacity = iv.capacity;
    this.interval = iv.q;
    this.fill = iv.fillQ;
    this.initFill = iv.initQ;
  }

  @Override
  public Holder newHolder(long now) {
    return new Holder(Holder.live(now - initFill));
  }

  @Override
  public boolean tryAcquire(Holder h, long now, long permits) {
    return acquire(h, now, permits) == ACQUIRED;
  }

  @Override
  public int acquire(Holder h, long now, long permits) {
    long e = h.bits;
    if (permits > capacity) {
      return seen(h, e, now - fill) == Holder.RETIRED_BITS ? RETIRED : REFUSED;
    }
    long cost = permits * interval;
    long low = now - fill;
    for (;;) {
      if (e == Holder.RETIRED_BITS) {
        return RETIRED;
      }
      long next = (e - low < 0 ? low : e) + cost;
      if (next - now > 0) {
        return REFUSED;
      }
      long witness = (long) Holder.BITS.compareAndExchange(h, e, Holder.live(next));
      if (witness == e) {
        return ACQUIRED;
      }
      e = witness;
    }
  }

  @Override
  public Decision decide(Holder h, long now, long permits) {
    return decideOrNull(h, now, permits);
  }

  @Override
  public Decision decideOrNull(Holder h, long now, long permits) {
    long low = now - fill;
    long e = h.bits;
    if (permits > capacity) {
      long base = seen(h, e, low);
      return base == Holder.RETIRED_BITS
          ? null
          : Decision.exceedsCapacity(tokens(base, now), capacity, base + fill - now);
    }
    long cost = permits * interval;
    for (;;) {
      if (e == Holder.RETIRED_BITS) {
        return null;
      }
      long base = e - low < 0 ? low : e;
      long next = base + cost;
      if (next - now > 0) {
        return Decision.denied(tokens(base, now), capacity, next - now, base + fill - now);
      }
      long witness = (long) Holder.BITS.compareAndExchange(h, e, Holder.live(next));
      if (witness == e) {
        return Decision.allowed((now - next) / interval, capacity, next + fill - now);
      }
      e = witness;
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
   * @return the base, {@code max(E, low)}, or {@link Holder#RETIRED_BITS} if the holder is
   *     retired (nothing is written then)
   */
  private static long seen(Holder h, long e, long low) {
    while (e != Holder.RETIRED_BITS && e - low < 0) {
      long stored = Holder.live(low);
      long witness = (long) Holder.BITS.compareAndExchange(h, e, stored);
      if (witness == e) {
        return stored;
      }
      e = witness;
    }
    return e;
  }

  private long tokens(long base, long now) {
    long span = now - base;
    return span <= 0 ? 0 : span / interval;
  }

  @Override
  public long available(Holder h, long now) {
    long base = seen(h, h.bits, now - fill);
    return base == Holder.RETIRED_BITS ? -1 : tokens(base, now);
  }

  @Override
  public boolean isFull(Holder h, long now) {
    long e = h.bits;
    return e == Holder.RETIRED_BITS || e - (now - fill) <= 0;
  }

  @Override
  public long nanosUntilFull(Holder h, long now) {
    long e = h.bits;
    if (e == Holder.RETIRED_BITS) {
      return 0;
    }
    long until = e + fill - now;
    return until < 0 ? 0 : until;
  }

  @Override
  public long evictionRank(Holder h, long now) {
    long e = h.bits;
    return e == Holder.RETIRED_BITS ? -1 : rank(e, now);
  }

  @Override
  public boolean retire(Holder h, long now, long maxNanosUntilFull) {
    long e = h.bits;
    for (;;) {
      if (e == Holder.RETIRED_BITS) {
        return false;
      }
      long rank = rank(e, now);
      if (rank < 0 || rank > maxNanosUntilFull) {
        return false;
      }
      long witness = (long) Holder.BITS.compareAndExchange(h, e, Holder.RETIRED_BITS);
      if (witness == e) {
        return true;
      }
      e = witness;
    }
  }

  /** -1 if the bucket with empty instant {@code e} is throttled at {@code now}, else nanoseconds until full. */
  private long rank(long e, long now) {
    long low = now - fill;
    long base = e - low < 0 ? low : e;
    return 2 * tokens(base, now) < capacity ? -1 : base - low;
  }
}
