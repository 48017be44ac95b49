package dev.sluice;

import dev.sluice.internal.Engine;
import dev.sluice.internal.Holder;
import dev.sluice.internal.Ticket;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

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
  private final Parker parker;
  private final Scheduler scheduler;

  private TokenBucket(Policy policy, Ticker ticker, Parker parker, Scheduler scheduler) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.ticker = Objects.requireNonNull(ticker, "ticker");
    this.engine = Engine.of(policy);
    this.holder = engine.newHolder(ticker.read());
    this.parker = parker;
    this.scheduler = scheduler;
  }

  /** For tests: a bucket whose waits park and complete through the given seams. */
  static TokenBucket of(Policy policy, Ticker ticker, Parker parker, Scheduler scheduler) {
    return new TokenBucket(policy, ticker, Objects.requireNonNull(parker, "parker"),
        Objects.requireNonNull(scheduler, "scheduler"));
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
    return new TokenBucket(policy, ticker, Parker.SYSTEM, null);
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
   * Reserves {@code permits} if every limit will hold them within {@code maxWait}: they are taken
   * now, as debt, and due at the earliest instant the exact bucket holds them after every earlier
   * reservation ({@link Reservation#dueAt()}); reservations are due in the order they are made.
   * One that would wait longer than {@code maxWait} takes nothing. {@code maxWait} zero is
   * {@link #tryAcquire(long)}. The caller waits for the due instant itself (or uses
   * {@link #acquire(long, Duration)}).
   *
   * @param permits at least 1; more than a capacity gives a refusal that
   *     {@link Reservation#exceedsCapacity()}, at once
   * @param maxWait the longest acceptable wait, zero or more (cut to 73 years)
   * @return the reservation, granted or refused
   * @throws IllegalArgumentException if {@code permits < 1} or {@code maxWait} is negative
   */
  public Reservation reserve(long permits, Duration maxWait) {
    Engine.checkPermits(permits);
    return reserveNanos(permits, Engine.waitNanos(maxWait, "maxWait"));
  }

  private Reservation reserveNanos(long permits, long maxWaitNanos) {
    long now = ticker.read();
    Ticket t = engine.reserve(holder, now, permits, maxWaitNanos);
    return Reservation.of(t, permits, now, ticker, at -> engine.cancel(t, at));
  }

  /**
   * Takes {@code permits}, waiting (parked) as long as needed for them to be due. Interruption
   * while waiting cancels the reservation ({@link Reservation#cancel()}) and returns false, the
   * thread's interrupt flag still set; permits due at once are taken whatever the flag.
   *
   * @param permits at least 1
   * @return true once the permits are the caller's; false, at once, if they exceed a capacity
   *     (no wait is enough), or if interrupted
   * @throws IllegalArgumentException if {@code permits < 1}
   */
  public boolean acquire(long permits) {
    Engine.checkPermits(permits);
    return Waiting.await(reserveNanos(permits, Engine.MAX_WAIT_NANOS), parker);
  }

  /**
   * Takes {@code permits} if they will be due within {@code timeout}, waiting (parked) until
   * they are; takes nothing and returns false at once if they would not be. Interruption while
   * waiting cancels the reservation and returns false, the interrupt flag still set.
   *
   * @param permits at least 1
   * @param timeout the longest wait, zero or more (zero is {@link #tryAcquire(long)})
   * @return whether the permits are the caller's
   * @throws IllegalArgumentException if {@code permits < 1} or {@code timeout} is negative
   */
  public boolean acquire(long permits, Duration timeout) {
    Engine.checkPermits(permits);
    return Waiting.await(reserveNanos(permits, Engine.waitNanos(timeout, "timeout")), parker);
  }

  /**
   * Reserves {@code permits} as {@link #reserve} does and completes when they are due, without
   * a thread per waiter: true at the due instant (on the shared scheduler thread, see
   * {@code docs/waiting.md}), false at once if they would not be due within {@code maxWait} or
   * exceed a capacity. Cancelling the future before it completes cancels the reservation.
   *
   * @param permits at least 1
   * @param maxWait the longest acceptable wait, zero or more
   * @return true when the permits are the caller's, false if refused
   * @throws IllegalArgumentException if {@code permits < 1} or {@code maxWait} is negative
   */
  public CompletionStage<Boolean> acquireAsync(long permits, Duration maxWait) {
    Engine.checkPermits(permits);
    Reservation r = reserveNanos(permits, Engine.waitNanos(maxWait, "maxWait"));
    return Waiting.async(r, scheduler != null ? scheduler : Scheduler.shared());
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
