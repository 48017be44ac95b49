package dev.sluice.internal;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.Policy;

/**
 * Every policy that is not one limit with a whole-nanosecond interval: several limits checked
 * all-or-nothing, and fractional intervals such as 7/s. The state is an immutable
 * {@code long[]} holding, per limit, the empty instant as whole nanoseconds and a fraction
 * numerator below that limit's {@code den}; an admitted request swaps in a new array by CAS
 * (one small allocation), a refused one writes nothing, so a request refused by one limit takes
 * nothing from the others.
 */
final class GeneralEngine extends Engine {

  GeneralEngine(Policy policy) {
    super(policy, intervals(policy));
  }

  private static Interval[] intervals(Policy policy) {
    Interval[] out = new Interval[policy.limits().size()];
    int i = 0;
    for (Limit limit : policy.limits()) {
      out[i++] = new Interval(limit);
    }
    return out;
  }

  /** Whether a state is a sentinel (retired or moved). */
  private static boolean dead(long[] s) {
    return s == Holder.RETIRED_MULTI || s == Holder.MOVED_MULTI;
  }

  @Override
  long[] parts(Holder h) {
    long[] s = ((PartsHolder) h).emptyAtParts;
    return dead(s) ? null : s;
  }

  @Override
  boolean markMoved(Holder h, long[] parts) {
    return PartsHolder.EMPTY_AT_PARTS.compareAndSet(h, parts, Holder.MOVED_MULTI);
  }

  @Override
  public boolean retire(Holder h, long[] parts) {
    return PartsHolder.EMPTY_AT_PARTS.compareAndSet(h, parts, Holder.RETIRED_MULTI);
  }

  @Override
  Holder holderOf(long[] parts) {
    return new PartsHolder(this, parts);
  }

  @Override
  public Holder newHolder(long now) {
    long[] s = new long[2 * limits.length];
    for (int i = 0; i < limits.length; i++) {
      Interval iv = limits[i];
      // emptyAt = now - initial*T
      if (iv.initR == 0) {
        s[2 * i] = now - iv.initQ;
      } else {
        s[2 * i] = now - iv.initQ - 1;
        s[2 * i + 1] = iv.den - iv.initR;
      }
    }
    return new PartsHolder(this, s);
  }

  /** Writes base = max(emptyAt, now - C*T) for limit i into out[2i], out[2i+1]. */
  private static void base(Interval iv, long[] s, int i, long now, long[] out) {
    long lowNs;
    long lowF;
    if (iv.fillR == 0) {
      lowNs = now - iv.fillQ;
      lowF = 0;
    } else {
      lowNs = now - iv.fillQ - 1;
      lowF = iv.den - iv.fillR;
    }
    long eNs = s[2 * i];
    long eF = s[2 * i + 1];
    long d = eNs - lowNs;
    if (d < 0 || (d == 0 && eF < lowF)) {
      out[2 * i] = lowNs;
      out[2 * i + 1] = lowF;
    } else {
      out[2 * i] = eNs;
      out[2 * i + 1] = eF;
    }
  }

  /**
   * Records the reading on a path that takes nothing: a copy of {@code s} in which every limit
   * that is full at {@code now} has its empty instant moved up to {@code now - C*T}, or null if
   * no limit is full. No reading at or after {@code now} can tell the copy from {@code s}, but a
   * ticker that later goes back below {@code now} can no longer refill those limits a second
   * time (see {@code LongEngine.seen}). Refusals need it here, unlike in the one-limit engine:
   * a request one limit refuses may find another full.
   */
  private long[] seen(long[] s, long now) {
    long[] out = null;
    for (int i = 0; i < limits.length; i++) {
      Interval iv = limits[i];
      long lowNs = iv.fillR == 0 ? now - iv.fillQ : now - iv.fillQ - 1;
      long lowF = iv.fillR == 0 ? 0 : iv.den - iv.fillR;
      long d = s[2 * i] - lowNs;
      if (d < 0 || (d == 0 && s[2 * i + 1] < lowF)) {
        if (out == null) {
          out = s.clone();
        }
        out[2 * i] = lowNs;
        out[2 * i + 1] = lowF;
      }
    }
    return out;
  }

  /** Adds n*T to the instant at out[2i], out[2i+1]. */
  private static void add(Interval iv, long[] out, int i, long n) {
    long ns = out[2 * i] + iv.mulQ(n);
    long f = out[2 * i + 1] + iv.mulR(n);
    if (f >= iv.den) {
      f -= iv.den;
      ns++;
    }
    out[2 * i] = ns;
    out[2 * i + 1] = f;
  }

  /** Whether instant (ns, f) is at or before now. */
  private static boolean notAfter(long ns, long f, long now) {
    long d = ns - now;
    return d < 0 || (d == 0 && f == 0);
  }

  /** Nanoseconds from now until instant (ns, f), rounded up; may be negative. */
  private static long ceilUntil(long ns, long f, long now) {
    return ns - now + (f > 0 ? 1 : 0);
  }

  /** Nanoseconds from now until the bucket whose empty instant is (ns, f) is full, >= 0. */
  private static long untilFull(Interval iv, long ns, long f, long now) {
    long fullNs = ns + iv.fillQ;
    long fullF = f + iv.fillR;
    if (fullF >= iv.den) {
      fullF -= iv.den;
      fullNs++;
    }
    long until = ceilUntil(fullNs, fullF, now);
    return until < 0 ? 0 : until;
  }

  @Override
  public Decision take(Holder h, long now, long permits, boolean report) {
    int n = limits.length;
    long[] s = ((PartsHolder) h).emptyAtParts;
    for (;;) {
      if (dead(s)) {
        return null;
      }
      long[] next = new long[2 * n];
      boolean allowed = true;
      for (int i = 0; i < n; i++) {
        Interval iv = limits[i];
        base(iv, s, i, now, next);
        if (permits > iv.capacity) {
          allowed = false;
          continue;
        }
        add(iv, next, i, permits);
        if (!notAfter(next[2 * i], next[2 * i + 1], now)) {
          allowed = false;
        }
      }
      if (!allowed) {
        long[] seen = seen(s, now);
        if (seen != null) {
          long[] witness = (long[]) PartsHolder.EMPTY_AT_PARTS.compareAndExchange(h, s, seen);
          if (witness != s) {
            s = witness;
            continue;
          }
        }
        return report ? refusal(s, now, permits) : REFUSED;
      }
      long[] witness = (long[]) PartsHolder.EMPTY_AT_PARTS.compareAndExchange(h, s, next);
      if (witness == s) {
        return report ? admitted(next, now) : TAKEN;
      }
      s = witness;
    }
  }

  @Override
  public Ticket reserve(Holder h, long now, long permits, long maxWaitNanos) {
    int n = limits.length;
    long[] s = ((PartsHolder) h).emptyAtParts;
    for (;;) {
      if (dead(s)) {
        return null;
      }
      boolean never = permits > policy.maxPermitsPerRequest();
      long wait = 0;
      if (!never) {
        long[] tmp = new long[2 * n];
        for (int i = 0; i < n; i++) {
          Interval iv = limits[i];
          base(iv, s, i, now, tmp);
          add(iv, tmp, i, permits);
          wait = Math.max(wait, ceilUntil(tmp[2 * i], tmp[2 * i + 1], now));
        }
      }
      if (never || wait > maxWaitNanos) {
        long[] seen = seen(s, now); // record the reading, as a refusal by take does
        if (seen != null) {
          long[] witness = (long[]) PartsHolder.EMPTY_AT_PARTS.compareAndExchange(h, s, seen);
          if (witness != s) {
            s = witness;
            continue;
          }
        }
        return never ? Ticket.NEVER_TICKET : Ticket.tooLong(now + wait);
      }
      // every limit charged as if taken at the due instant: max(emptyAt, due - C*T) + n*T
      long due = now + wait;
      long[] next = new long[2 * n];
      for (int i = 0; i < n; i++) {
        Interval iv = limits[i];
        base(iv, s, i, due, next);
        add(iv, next, i, permits);
      }
      long[] witness = (long[]) PartsHolder.EMPTY_AT_PARTS.compareAndExchange(h, s, next);
      if (witness == s) {
        return new Ticket(h, Ticket.GRANTED, due, 0, 0, s, next);
      }
      s = witness;
    }
  }

  @Override
  public boolean cancel(Ticket t, long now) {
    // still the latest write (the very array it wrote) and not due: put back what it replaced
    return t.dueAt - now > 0
        && PartsHolder.EMPTY_AT_PARTS.compareAndSet(t.holder, t.afterParts, t.beforeParts);
  }

  private Decision admitted(long[] next, long now) {
    long remaining = Long.MAX_VALUE;
    int binding = 0;
    long reset = 0;
    for (int i = 0; i < limits.length; i++) {
      Interval iv = limits[i];
      long ns = next[2 * i];
      long f = next[2 * i + 1];
      long k = iv.permitsIn(now - ns, f);
      if (k < remaining) {
        remaining = k;
        binding = i;
      }
      reset = Math.max(reset, untilFull(iv, ns, f, now));
    }
    return Decision.allowed(policy, binding, remaining, reset);
  }

  private Decision refusal(long[] s, long now, long permits) {
    long[] tmp = new long[2 * limits.length];
    long remaining = Long.MAX_VALUE;
    int binding = 0;
    long reset = 0;
    long retry = 0;
    int exceeded = -1;
    long exceededRemaining = 0;
    for (int i = 0; i < limits.length; i++) {
      Interval iv = limits[i];
      base(iv, s, i, now, tmp);
      long bNs = tmp[2 * i];
      long bF = tmp[2 * i + 1];
      long k = iv.permitsIn(now - bNs, bF);
      if (k < remaining) {
        remaining = k;
        binding = i;
      }
      reset = Math.max(reset, untilFull(iv, bNs, bF, now));
      if (permits > iv.capacity) {
        // the limit a request can never fit binds: the smallest capacity it exceeds
        if (exceeded < 0 || iv.capacity < limits[exceeded].capacity) {
          exceeded = i;
          exceededRemaining = k;
        }
        continue;
      }
      add(iv, tmp, i, permits);
      retry = Math.max(retry, ceilUntil(tmp[2 * i], tmp[2 * i + 1], now));
    }
    if (exceeded >= 0) {
      return Decision.exceedsCapacity(policy, exceeded, exceededRemaining, reset);
    }
    return Decision.denied(policy, binding, remaining, Math.max(retry, 1), reset);
  }

  @Override
  public boolean refund(Holder h, long now, long permits, long heldNanos) {
    int n = limits.length;
    long[] s = ((PartsHolder) h).emptyAtParts;
    for (;;) {
      if (dead(s)) {
        return false;
      }
      for (int i = 0; i < n; i++) {
        if (!notAfter(s[2 * i], s[2 * i + 1], now)) {
          return true; // permits reserved for later: nothing is given back (see Engine.refund)
        }
      }
      long[] next = new long[2 * n];
      for (int i = 0; i < n; i++) {
        Interval iv = limits[i];
        // back = max(0, n*T - held); emptyAt - back, then no earlier than now - C*T (full)
        long n2 = Math.min(permits, iv.capacity);
        long backQ = iv.mulQ(n2) - Math.max(0, heldNanos);
        long backR = iv.mulR(n2);
        if (backQ < 0) {
          backQ = 0;
          backR = 0;
        }
        long ns = s[2 * i] - backQ;
        long f = s[2 * i + 1] - backR;
        if (f < 0) {
          f += iv.den;
          ns--;
        }
        next[2 * i] = ns;
        next[2 * i + 1] = f;
        base(iv, next, i, now, next);
      }
      long[] witness = (long[]) PartsHolder.EMPTY_AT_PARTS.compareAndExchange(h, s, next);
      if (witness == s) {
        return true;
      }
      s = witness;
    }
  }

  @Override
  public long available(Holder h, long now) {
    long[] s = ((PartsHolder) h).emptyAtParts;
    for (;;) {
      if (dead(s)) {
        return -1;
      }
      long[] seen = seen(s, now);
      if (seen == null) {
        break;
      }
      long[] witness = (long[]) PartsHolder.EMPTY_AT_PARTS.compareAndExchange(h, s, seen);
      if (witness == s) {
        break;
      }
      s = witness;
    }
    long[] tmp = new long[2 * limits.length];
    long remaining = Long.MAX_VALUE;
    for (int i = 0; i < limits.length; i++) {
      Interval iv = limits[i];
      base(iv, s, i, now, tmp);
      remaining = Math.min(remaining, iv.permitsIn(now - tmp[2 * i], tmp[2 * i + 1]));
    }
    return remaining;
  }

  @Override
  public boolean isFull(Holder h, long now) {
    long[] s = ((PartsHolder) h).emptyAtParts;
    if (dead(s)) {
      return true;
    }
    for (int i = 0; i < limits.length; i++) {
      if (untilFull(limits[i], s[2 * i], s[2 * i + 1], now) > 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public long nanosUntilFull(Holder h, long now) {
    long[] s = ((PartsHolder) h).emptyAtParts;
    if (dead(s)) {
      return 0;
    }
    long reset = 0;
    for (int i = 0; i < limits.length; i++) {
      reset = Math.max(reset, untilFull(limits[i], s[2 * i], s[2 * i + 1], now));
    }
    return reset;
  }

  @Override
  public long evictionRank(Holder h, long now) {
    long[] s = ((PartsHolder) h).emptyAtParts;
    return dead(s) ? -1 : rank(s, now);
  }

  @Override
  public boolean retire(Holder h, long now, long maxNanosUntilFull) {
    long[] s = ((PartsHolder) h).emptyAtParts;
    for (;;) {
      if (dead(s)) {
        return false;
      }
      long rank = rank(s, now);
      if (rank < 0 || rank > maxNanosUntilFull) {
        return false;
      }
      long[] witness = (long[]) PartsHolder.EMPTY_AT_PARTS.compareAndExchange(h, s, Holder.RETIRED_MULTI);
      if (witness == s) {
        return true;
      }
      s = witness;
    }
  }

  /** -1 if some limit holds fewer than half its capacity at {@code now}, else nanoseconds until full. */
  private long rank(long[] s, long now) {
    long[] tmp = new long[2 * limits.length];
    long reset = 0;
    for (int i = 0; i < limits.length; i++) {
      Interval iv = limits[i];
      base(iv, s, i, now, tmp);
      if (2 * iv.permitsIn(now - tmp[2 * i], tmp[2 * i + 1]) < iv.capacity) {
        return -1;
      }
      reset = Math.max(reset, untilFull(iv, s[2 * i], s[2 * i + 1], now));
    }
    return reset;
  }
}
