package dev.sluice;

import dev.sluice.internal.Engine;
import dev.sluice.internal.Holder;
import java.time.Duration;
import java.util.Objects;

/**
 * One token bucket (or one set of limits checked together), refilled lazily from the time
 * elapsed on its {@link Ticker}. Thread-safe and lock-free: a one-limit policy with a
 * whole-nanosecond interval costs one compare-and-set on one {@code long} per admitted request
 * and allocates nothing on the boolean path.
 *
 * <pre>{@code
 * TokenBucket bucket = TokenBucket.of(Limit.perSecond(10).withCapacity(50));
 * if (bucket.tryAcquire()) { ... }
 * }</pre>
 *
 * <p>Exact: it never admits more than {@code capacity + elapsed * rate} in any window, and never
 * refuses a request the exact bucket could serve (see {@link Limit} for the supported range).
 * Time going backwards mints nothing: the bucket holds no new permits until its ticker catches
 * up again.
 */
public final class TokenBucket {

  private final Policy policy;
  private final Engine engine;
  private final Ticker ticker;
  private final Holder holder;

  private TokenBucket(Policy policy, Ticker ticker) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.ticker = Objects.requireNonNull(ticker, "ticker");
    this.engine = Engine.of(policy);
    this.holder = engine.newHolder(ticker.read());
  }

  /**
   * A bucket for one limit on the system ticker.
   *
   * @param limit the limit
   * @return a new bucket, holding the limit's initial permits
   */
  public static TokenBucket of(Limit limit) {
    return of(Policy.of(Objects.requireNonNull(limit, "limit")), Ticker.system());
  }

  /**
   * A bucket for a policy on the given ticker.
   *
   * @param policy the limits, checked all-or-nothing
   * @param ticker the time source
   * @return a new bucket, holding each limit's initial permits
   */
  public static TokenBucket of(Policy policy, Ticker ticker) {
    return new TokenBucket(policy, ticker);
  }

  /**
   * Takes one permit if available.
   *
   * @return whether it was taken
   */
  public boolean tryAcquire() {
    return engine.take(holder, ticker.read(), 1, false) == Engine.TAKEN;
  }

  /**
   * Takes {@code permits} if every limit has them; takes nothing otherwise.
   *
   * @param permits at least 1
   * @return whether they were taken
   * @throws IllegalArgumentException if {@code permits < 1}
   */
  public boolean tryAcquire(long permits) {
    Engine.checkPermits(permits);
    return engine.take(holder, ticker.read(), permits, false) == Engine.TAKEN;
  }

  /**
   * Takes {@code permits} if every limit has them, and reports the outcome.
   *
   * @param permits at least 1
   * @return the decision
   * @throws IllegalArgumentException if {@code permits < 1}
   */
  public Decision decide(long permits) {
    Engine.checkPermits(permits);
    return engine.take(holder, ticker.read(), permits, true);
  }

  /**
   * Gives back {@code permits} taken {@code heldFor} ago (a request that turned out not to
   * count): each limit regains them less the refill they kept while out ({@link
   * RateLimiter#refund}), never beyond its capacity. Give back only what was taken.
   *
   * @param permits at least 1, at most the smallest capacity
   * @param heldFor at least the time since they were taken, by this bucket's ticker
   * @throws IllegalArgumentException if {@code permits} is out of range or {@code heldFor}
   *     negative
   */
  public void refund(long permits, Duration heldFor) {
    Engine.checkRefund(policy, permits);
    engine.refund(holder, ticker.read(), permits, Engine.heldNanos(heldFor));
  }

  /**
   * Whole permits available now (the fewest over the limits), taking none.
   *
   * @return permits available
   */
  public long availablePermits() {
    return engine.available(holder, ticker.read());
  }

  /**
   * The policy this bucket enforces.
   *
   * @return the policy
   */
  public Policy policy() {
    return policy;
  }

  @Override
  public String toString() {
    return "TokenBucket[" + policy + ", available=" + availablePermits() + "]";
  }
}
