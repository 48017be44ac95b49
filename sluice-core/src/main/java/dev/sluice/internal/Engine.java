package dev.sluice.internal;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.Policy;

/**
 * The bucket function: the token-bucket arithmetic applied to one {@link Holder} at one instant.
 *
 * <h2>The model</h2>
 * A bucket of capacity {@code C} that gains one permit every {@code T} nanoseconds is described
 * by one instant, {@code emptyAt}, at which it was (or will be) empty:
 * <pre>
 *   tokens(now) = min(C, (now - emptyAt) / T)
 *   take n:   base = max(emptyAt, now - C*T);  next = base + n*T
 *             admitted iff next &lt;= now, and then emptyAt := next; otherwise nothing is written
 *   refund n, taken up to held ago: emptyAt := max(emptyAt - max(0, n*T - held), now - C*T)
 * </pre>
 * This is the lazily refilled token bucket (and GCRA). A full bucket ({@code emptyAt <= now - C*T}) is
 * the same as a new one, so a full bucket can be forgotten without loss.
 *
 * <h2>Exactness</h2>
 * {@code T = P/N} is kept as a reduced fraction {@code num/den}. When {@code den == 1} (N divides
 * P) {@code emptyAt} is one {@code long} and every step is exact integer arithmetic. Otherwise it
 * is a pair (whole nanoseconds, numerator of the fraction below {@code den}) and every step is
 * exact too; nothing is ever rounded except the waits reported to callers, which are rounded up.
 *
 * <h2>Overflow</h2>
 * Instants are compared by subtraction, so tickers may start anywhere and wrap. {@link Limit}
 * bounds {@code C*T <= 2^62} and {@code den < 2^31}, so {@code n*T} for {@code n <= C} and every
 * product below fit in a {@code long}. An idle gap longer than 2^63 ns (292 years) is not supported.
 *
 * <h2>Time going backwards</h2>
 * If {@code now} is earlier than {@code emptyAt}, the bucket simply holds no permits until the
 * ticker passes {@code emptyAt} again: no permit is minted, no wait is negative, nothing throws. The engine
 * behaves as the exact bucket driven by the latest reading it has seen, which needs every
 * reading recorded: admissions record theirs in {@code emptyAt}; a path that takes nothing (a refusal,
 * a request above the capacity, a read of the available permits) records its reading only when
 * it finds a limit full, by moving that limit's {@code emptyAt} up to {@code now - C*T}, a change no
 * later reading can observe. A refusal of at most the capacity by a one-limit bucket never finds
 * it full, so the one-CAS path is unchanged.
 */
public abstract class Engine {

  /** The grace before a full bucket expires is capped (2^60 ns, 36 years) to keep sums in range. */
  private static final long GRACE_BOUND = 1L << 60;

  /** The policy this engine serves. */
  final Policy policy;

  /** The policy's limits, compiled, in order. */
  final Interval[] limits;

  /** How long a bucket stays full before a store drops it: the longest fill time, capped. */
  final long graceNanos;

  Engine(Policy policy, Interval[] limits) {
    this.policy = policy;
    this.limits = limits;
    long grace = 0;
    for (Limit l : policy.limits()) {
      grace = Math.max(grace, Math.min(GRACE_BOUND, l.fillTime().toNanos()));
    }
    this.graceNanos = grace;
  }

  /**
   * The policy this engine serves.
   *
   * @return the policy
   */
  public final Policy policy() {
    return policy;
  }

  /**
   * How long a bucket of this policy stays full before a store drops it (the longest fill time
   * of its limits, at most 2<sup>60</sup> ns).
   *
   * @return the grace in nanoseconds
   */
  public final long graceNanos() {
    return graceNanos;
  }

  /**
   * Whether this engine serves {@code other}: the same instance, or an equal policy.
   *
   * @param other a policy
   * @return true if a bucket written under this engine needs no conversion for {@code other}
   */
  public final boolean serves(Policy other) {
    return policy == other || policy.equals(other);
  }

  /** The state as (whole ns, fraction) per limit, or null if retired or moved; never modified. */
  abstract long[] parts(Holder h);

  /** Moves the holder from exactly {@code parts} (as {@link #parts} returned) to the moved sentinel. */
  abstract boolean markMoved(Holder h, long[] parts);

  /**
   * Retires the holder if its state is still exactly {@code parts} (as {@link #parts} returned):
   * a store taking back a holder nobody has decided on yet.
   *
   * @param h the bucket
   * @param parts the state it must still hold
   * @return whether this call retired it
   */
  public abstract boolean retire(Holder h, long[] parts);

  /** A live holder of this engine with the given state. */
  abstract Holder holderOf(long[] parts);

  /**
   * Moves a bucket to this engine by the carry-over rule ({@link Carry}): each of this policy's
   * limits keeps the permits the same limit (by position) held at {@code now}, debt included,
   * capped at its new capacity; a limit with no counterpart starts as a new bucket's does. The
   * old holder is marked moved in the same compare-and-set that fixes the state converted, so no
   * decision lands on it afterwards. The returned holder is private to the caller, which applies
   * its own call to it and then publishes it in the old one's place: the conversion and that
   * call are one atomic step for every other call on the bucket (which waits on the moved
   * sentinel), so a call is never split around another.
   *
   * @param h the bucket, under another engine
   * @param now the ticker reading
   * @return the converted holder, or null if {@code h} was retired or moved meanwhile
   */
  public final Holder moveFrom(Holder h, long now) {
    Engine from = h.engine;
    for (;;) {
      long[] parts = from.parts(h);
      if (parts == null) {
        return null;
      }
      Holder next = holderOf(Carry.convert(from, parts, this, now));
      if (from.markMoved(h, parts)) {
        return next;
      }
    }
  }

  /**
   * Compiles a policy to the engine that serves it.
   *
   * @param policy the policy
   * @return its engine
   */
  public static Engine of(Policy policy) {
    java.util.Objects.requireNonNull(policy, "policy");
    if (policy.limits().size() == 1) {
      Interval iv = new Interval(policy.limits().get(0));
      if (iv.den == 1) {
        return new LongEngine(policy, iv);
      }
    }
    return new GeneralEngine(policy);
  }

  /**
   * A new bucket at {@code now}, holding each limit's initial permits.
   *
   * @param now the ticker reading
   * @return the holder
   */
  public abstract Holder newHolder(long now);

  /**
   * {@link #take}'s answer to a caller that asked for no report: the permits were taken. Never
   * escapes the core.
   */
  public static final Decision TAKEN = Decision.allowed(Policy.of(Limit.perSecond(1)), 0, 0, 0);

  /** {@link #take}'s answer to a caller that asked for no report: refused, nothing taken. */
  public static final Decision REFUSED =
      Decision.exceedsCapacity(Policy.of(Limit.perSecond(1)), 0, 0, 0);

  /**
   * The bucket function, the one decision path: takes {@code permits} if every limit has them
   * at {@code now}, and writes nothing else (but a recorded reading, see the class essay).
   *
   * @param h the bucket
   * @param now the ticker reading
   * @param permits at least 1
   * @param report whether to build the {@link Decision}; if false, {@link #TAKEN} or
   *     {@link #REFUSED} is returned instead, and nothing is allocated on the one-limit path
   * @return the decision, or null, writing nothing, if the holder is retired (a store that
   *     retires holders then looks the key up again; a holder that is never retired, such as a
   *     {@code TokenBucket}'s, never answers null)
   */
  public abstract Decision take(Holder h, long now, long permits, boolean report);

  /**
   * The most a reservation may wait, in nanoseconds: 2<sup>61</sup> (73 years). Longer bounds
   * (an unbounded {@code acquire}) are cut to it, which keeps every sum below in range: a debt
   * of at most 2<sup>61</sup> ns plus a cost of at most {@code C*T <= 2^62} ns.
   */
  public static final long MAX_WAIT_NANOS = 1L << 61;

  /**
   * Reserves {@code permits} at {@code now} if they are due within {@code maxWaitNanos}: the
   * bucket function with a wait. The due instant is the earliest at which the exact bucket holds
   * them in every limit, {@code D = max(now, max_i ceil(max(emptyAt_i, now - C_i*T_i) + n*T_i))};
   * if {@code D - now <= maxWaitNanos} every limit is charged as if the permits were taken at
   * {@code D}: {@code emptyAt_i := max(emptyAt_i, D - C_i*T_i) + n*T_i} (for one limit, or the
   * binding one, this is {@code base + n*T}, as in DESIGN; for a limit that does not bind, the
   * base is taken at {@code D}, not {@code now}, or it would count as refilled the time it waits
   * for the binding limit, and admit more than its bound right after {@code D}). Otherwise
   * nothing is taken. {@code maxWaitNanos == 0} is exactly {@link #take}.
   *
   * @param h the bucket
   * @param now the ticker reading
   * @param permits at least 1
   * @param maxWaitNanos from 0 to {@link #MAX_WAIT_NANOS}
   * @return the ticket, or null, writing nothing, if the holder is retired or moved
   */
  public abstract Ticket reserve(Holder h, long now, long permits, long maxWaitNanos);

  /**
   * Gives a granted reservation back at {@code now}, if it is not due yet and nothing has written
   * the bucket since it did: the state it replaced is put back, exactly, as if it had never been
   * made. Otherwise nothing changes (its permits stay taken): a later reservation or take was
   * decided on the state it wrote and depends on it. See {@code docs/waiting.md}.
   *
   * @param t a granted ticket of this engine
   * @param now the ticker reading
   * @return whether the permits were given back
   */
  public abstract boolean cancel(Ticket t, long now);

  /**
   * Checks a wait bound at the door.
   *
   * @param maxWait the bound
   * @param name the argument's name, for the message
   * @return it in nanoseconds, cut to {@link #MAX_WAIT_NANOS}
   * @throws NullPointerException if null
   * @throws IllegalArgumentException if negative
   */
  public static long waitNanos(java.time.Duration maxWait, String name) {
    java.util.Objects.requireNonNull(maxWait, name);
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException(name + " (" + maxWait + ") must be at least 0");
    }
    return maxWait.compareTo(java.time.Duration.ofNanos(MAX_WAIT_NANOS)) >= 0 ? MAX_WAIT_NANOS
        : maxWait.toNanos();
  }

  /**
   * Gives {@code permits} back at {@code now}, taken {@code heldNanos} ago (at most): every
   * limit's {@code emptyAt} moves back by {@code max(0, n*T - heldNanos)}, but no earlier than
   * {@code now - C*T} (full). Why not by {@code n*T}: while the permits were out, a bucket that
   * would otherwise have been full kept earning, and giving all of {@code n*T} back would return
   * that refill too (a bucket of 10 at 1/s, full at 0: X takes 1; Y takes 1 at 0.5 s; X's full
   * refund at 0.5 s leaves 10 at 1 s: 11 in half a second). Earning stops at full, so at most
   * {@code heldNanos} of refill was kept: subtracting it never lets more through than the limit,
   * whatever ran in between, and is exact when the refund follows the take at once. The caller
   * gives back only what it took.
   *
   * <p>A bucket with permits reserved for later (some limit's {@code emptyAt} after {@code now})
   * gives nothing back: a reservation keeps its due instant, so moving {@code emptyAt} earlier
   * would let new requests be admitted next to it at that instant, beyond the bound.
   *
   * @param h the bucket
   * @param now the ticker reading
   * @param permits at least 1
   * @param heldNanos at least the time since the permits were taken, in ticker nanoseconds
   * @return false, writing nothing, if the holder is retired (a dropped bucket is full already)
   */
  public abstract boolean refund(Holder h, long now, long permits, long heldNanos);

  /**
   * How good an eviction victim the bucket is at {@code now}: -1 if it is retired or
   * <em>throttled</em> (holds fewer than half its capacity, in whole permits, in some limit; a
   * store never evicts it for a new key), otherwise the nanoseconds until it is full (0: full,
   * dropping it loses nothing).
   *
   * @param h the bucket
   * @param now the ticker reading
   * @return -1, or nanoseconds until full
   */
  public abstract long evictionRank(Holder h, long now);

  /**
   * Retires the bucket if, at {@code now} and atomically with respect to every decision on it,
   * it is not throttled and is at most {@code maxNanosUntilFull} from full (0: only if full).
   * A retired holder takes no further decision and must then be removed from its store.
   *
   * @param h the bucket
   * @param now the ticker reading
   * @param maxNanosUntilFull the most time until full for which it may be retired, at least 0
   * @return whether this call retired it
   */
  public abstract boolean retire(Holder h, long now, long maxNanosUntilFull);

  /**
   * Whole permits available now (the fewest over the limits), taking nothing.
   *
   * @param h the bucket
   * @param now the ticker reading
   * @return permits available, or -1 if the holder is retired
   */
  public abstract long available(Holder h, long now);

  /**
   * Whether the bucket is full at {@code now}, so that forgetting it loses nothing. A retired
   * holder counts as full.
   *
   * @param h the bucket
   * @param now the ticker reading
   * @return true if full
   */
  public abstract boolean isFull(Holder h, long now);

  /**
   * How long until the bucket is full, in nanoseconds, zero if it is (or is retired).
   *
   * @param h the bucket
   * @param now the ticker reading
   * @return nanoseconds until full
   */
  public abstract long nanosUntilFull(Holder h, long now);

  /**
   * Checks a permit count at the door.
   *
   * @param permits the requested permits
   * @return {@code permits}
   * @throws IllegalArgumentException if below 1
   */
  public static long checkPermits(long permits) {
    if (permits < 1) {
      throw new IllegalArgumentException("permits (" + permits + ") must be at least 1");
    }
    return permits;
  }

  /**
   * Checks how long refunded permits were held, at the door.
   *
   * @param heldFor the time since the take
   * @return it in nanoseconds, saturated at {@code Long.MAX_VALUE}
   * @throws IllegalArgumentException if negative
   */
  public static long heldNanos(java.time.Duration heldFor) {
    java.util.Objects.requireNonNull(heldFor, "heldFor");
    if (heldFor.isNegative()) {
      throw new IllegalArgumentException("heldFor (" + heldFor + ") must be at least 0");
    }
    return heldFor.compareTo(java.time.Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE
        : heldFor.toNanos();
  }

  /**
   * Checks a refund at the door: no request of more than the smallest capacity was ever
   * admitted, so no refund can be larger.
   *
   * @param policy the policy
   * @param permits the permits given back
   * @return {@code permits}
   * @throws IllegalArgumentException if below 1 or above the smallest capacity
   */
  public static long checkRefund(Policy policy, long permits) {
    long max = policy.maxPermitsPerRequest();
    if (permits < 1 || permits > max) {
      throw new IllegalArgumentException(
          "permits to refund (" + permits + ") must be from 1 to " + max
              + ", the most a request can take");
    }
    return permits;
  }
}
