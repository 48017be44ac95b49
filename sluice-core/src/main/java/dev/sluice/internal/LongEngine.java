package dev.sluice.internal;

import dev.sluice.Decision;

/**
 * The fast path: one limit whose interval is a whole number of nanoseconds. The state is the
 * empty instant {@code E} in one {@code long}; a decision is one volatile read and, when
 * admitted, one compare-and-exchange. Nothing is allocated on the boolean path; a failed CAS
 * retries with the witness value, and only because another request was admitted (lock-free).
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
    return new Holder(now - initFill);
  }

  @Override
  public boolean tryAcquire(Holder h, long now, long permits) {
    if (permits > capacity) {
      return false;
    }
    long cost = permits * interval;
    long low = now - fill;
    long e = h.bits;
    for (;;) {
      long next = (e - low < 0 ? low : e) + cost;
      if (next - now > 0) {
        return false;
      }
      long witness = (long) Holder.BITS.compareAndExchange(h, e, next);
      if (witness == e) {
        return true;
      }
      e = witness;
    }
  }

  @Override
  public Decision decide(Holder h, long now, long permits) {
    long low = now - fill;
    long e = h.bits;
    if (permits > capacity) {
      long base = e - low < 0 ? low : e;
      return Decision.exceedsCapacity(tokens(base, now), capacity, base + fill - now);
    }
    long cost = permits * interval;
    for (;;) {
      long base = e - low < 0 ? low : e;
      long next = base + cost;
      if (next - now > 0) {
        return Decision.denied(tokens(base, now), capacity, next - now, base + fill - now);
      }
      long witness = (long) Holder.BITS.compareAndExchange(h, e, next);
      if (witness == e) {
        return Decision.allowed((now - next) / interval, capacity, next + fill - now);
      }
      e = witness;
    }
  }

  private long tokens(long base, long now) {
    long span = now - base;
    return span <= 0 ? 0 : span / interval;
  }

  @Override
  public long available(Holder h, long now) {
    long low = now - fill;
    long e = h.bits;
    return tokens(e - low < 0 ? low : e, now);
  }

  @Override
  public boolean isFull(Holder h, long now) {
    return h.bits - (now - fill) <= 0;
  }

  @Override
  public long nanosUntilFull(Holder h, long now) {
    long until = h.bits + fill - now;
    return until < 0 ? 0 : until;
  }
}
