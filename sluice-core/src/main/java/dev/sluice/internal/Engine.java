package dev.sluice.internal;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.Policy;

/**
 * The bucket function: the token-bucket arithmetic applied to one {@link Holder} at one instant.
 *
 * <h2>The model</h2>
 * A bucket of capacity {@code C} that gains one permit every {@code T} nanoseconds is described
 * by one instant, {@code E}, at which it was (or will be) empty:
 * <pre>
 *   tokens(now) = min(C, (now - E) / T)
 *   take n:   base = max(E, now - C*T);  next = base + n*T
 *             admitted iff next &lt;= now, and then E := next; otherwise nothing is written
 * </pre>
 * This is the lazily refilled token bucket (and GCRA). A full bucket ({@code E <= now - C*T}) is
 * the same as a new one, so a full bucket can be forgotten without loss.
 *
 * <h2>Exactness</h2>
 * {@code T = P/N} is kept as a reduced fraction {@code num/den}. When {@code den == 1} (N divides
 * P) {@code E} is one {@code long} and every step is exact integer arithmetic. Otherwise {@code E}
 * is a pair (whole nanoseconds, numerator of the fraction below {@code den}) and every step is
 * exact too; nothing is ever rounded except the waits reported to callers, which are rounded up.
 *
 * <h2>Overflow</h2>
 * Instants are compared by subtraction, so tickers may start anywhere and wrap. {@link Limit}
 * bounds {@code C*T <= 2^62} and {@code den < 2^31}, so {@code n*T} for {@code n <= C} and every
 * product below fit in a {@code long}. An idle gap longer than 2^63 ns (292 years) is not supported.
 *
 * <h2>Time going backwards</h2>
 * If {@code now} is earlier than {@code E}, the bucket simply holds no permits until the ticker
 * passes {@code E} again: no permit is minted, no wait is negative, nothing throws. The engine
 * behaves as the exact bucket driven by the latest reading it has seen, which needs every
 * reading recorded: admissions record theirs in {@code E}; a path that takes nothing (a refusal,
 * a request above the capacity, a read of the available permits) records its reading only when
 * it finds a limit full, by moving that limit's {@code E} up to {@code now - C*T}, a change no
 * later reading can observe. A refusal of at most the capacity by a one-limit bucket never finds
 * it full, so the one-CAS path is unchanged.
 */
public abstract class Engine {

  /**
   * Compiles a policy to the engine that serves it.
   *
   * @param policy the policy
   * @return its engine
   */
  public static Engine of(Policy policy) {
    if (policy.limits().size() == 1) {
      Interval iv = new Interval(policy.limits().get(0));
      if (iv.den == 1) {
        return new LongEngine(iv);
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
   * Takes {@code permits} if every limit has them; writes nothing otherwise.
   *
   * @param h the bucket
   * @param now the ticker reading
   * @param permits at least 1
   * @return whether the permits were taken
   */
  public abstract boolean tryAcquire(Holder h, long now, long permits);

  /**
   * Like {@link #tryAcquire} and reports the outcome. For a holder that is never retired (a
   * {@code TokenBucket}'s); a store that retires holders calls {@link #decideOrNull}.
   *
   * @param h the bucket
   * @param now the ticker reading
   * @param permits at least 1
   * @return the decision
   */
  public abstract Decision decide(Holder h, long now, long permits);

  /** {@link #acquire}: the permits were taken. */
  public static final int ACQUIRED = 1;

  /** {@link #acquire}: refused; nothing was taken. */
  public static final int REFUSED = 0;

  /** {@link #acquire}: the holder is retired (its store dropped it); nothing was written. */
  public static final int RETIRED = -1;

  /**
   * {@link #tryAcquire} on a holder that a store may retire (see {@link Holder}): the same
   * decision, or {@link #RETIRED}, writing nothing, if the holder is retired; the store then
   * looks the key up again.
   *
   * @param h the bucket
   * @param now the ticker reading
   * @param permits at least 1
   * @return {@link #ACQUIRED}, {@link #REFUSED} or {@link #RETIRED}
   */
  public abstract int acquire(Holder h, long now, long permits);

  /**
   * {@link #decide} on a holder that a store may retire: the same decision, or null, writing
   * nothing, if the holder is retired.
   *
   * @param h the bucket
   * @param now the ticker reading
   * @param permits at least 1
   * @return the decision, or null if retired
   */
  public abstract Decision decideOrNull(Holder h, long now, long permits);

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
}
