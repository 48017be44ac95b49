package dev.sluice.spi;

import dev.sluice.Decision;
import dev.sluice.Policy;
import dev.sluice.Reservation;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where buckets live. The contract is "apply the bucket function of this policy to key
 * {@code K} atomically, at the store's time": not get-then-put, so that a remote store can run
 * the whole decision where the state is (for Redis, one script in one round trip) and no other
 * request can interleave between the read and the write.
 *
 * <p>Implementations must be thread-safe. For every key, the decisions they return must be
 * linearizable: equal to some order of the same requests applied one at a time to the exact
 * token bucket of {@link dev.sluice.Policy} at the store's time. A refused request must change
 * nothing.
 *
 * <p><b>The policy travels with each call.</b> A key's calls usually carry one policy, but a
 * limiter with plans, or whose policy changed at runtime, may send another: the store then
 * converts the key's state by the carry-over rule before it decides, atomically with the
 * decision: each limit keeps the permits the limit at the same position held at that instant
 * (debt included), capped at its new capacity, and refills at the new rate from then
 * ({@code emptyAt' = now - min(C', tokens(now)) * T'}; a limit in debt is empty no earlier than
 * it was: {@code emptyAt' = max(that, emptyAt)}); a limit with no counterpart starts as a
 * new bucket's would. No decision may mix two policies. A store that cannot convert throws
 * {@link UnsupportedOperationException} for a policy it does not serve.
 *
 * @param <K> the key type
 */
public interface RateStore<K> extends AutoCloseable {

  /**
   * Takes {@code permits} from {@code key}'s bucket if every limit of {@code policy} has them.
   *
   * @param key the key, not null
   * @param policy the key's policy, not null
   * @param permits at least 1
   * @return whether the permits were taken
   */
  default boolean tryAcquire(K key, Policy policy, long permits) {
    return decide(key, policy, permits).allowed();
  }

  /**
   * Takes {@code permits} from {@code key}'s bucket if every limit of {@code policy} has them,
   * and reports.
   *
   * @param key the key, not null
   * @param policy the key's policy, not null
   * @param permits at least 1
   * @return the decision
   */
  Decision decide(K key, Policy policy, long permits);

  /**
   * The asynchronous form of {@link #decide}; the default completes it on the caller's thread.
   *
   * @param key the key, not null
   * @param policy the key's policy, not null
   * @param permits at least 1
   * @return the decision, later
   */
  default CompletionStage<Decision> decideAsync(K key, Policy policy, long permits) {
    try {
      return CompletableFuture.completedFuture(decide(key, policy, permits));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Gives back {@code permits} that a request took from {@code key}'s bucket at most
   * {@code heldNanos} ago and that should not count after all, atomically at the store's time:
   * each limit's {@code emptyAt} moves back by the time to earn them less the time they were
   * held, but no earlier than full: {@code emptyAt' = max(emptyAt - max(0, n*T - held),
   * now - C*T)}. Subtracting the time held is what keeps a refund from returning refill that a
   * full bucket would have thrown away meanwhile (see {@code Engine.refund}): with it, a refund
   * never lets more through than the limit, whatever other requests did in between. Callers give
   * back only what they took, and pass an upper bound of the time since the take. A store may
   * drop a refund it cannot apply (a bucket no longer held is full already); it never applies
   * one twice.
   *
   * <p>The default throws {@link UnsupportedOperationException}: a store that cannot refund says
   * so rather than pretending.
   *
   * @param key the key, not null
   * @param policy the key's policy, not null
   * @param permits at least 1, at most the policy's smallest capacity
   * @param heldNanos at least the time since the permits were taken, 0 or more
   * @throws StoreUnavailableException if the store cannot be reached (nothing was given back,
   *     or, past a deadline, it may have been given back once)
   */
  default void refund(K key, Policy policy, long permits, long heldNanos) {
    throw new UnsupportedOperationException(getClass().getName() + " cannot give permits back");
  }

  /**
   * The asynchronous form of {@link #refund}; the default gives back on the caller's thread and
   * completes at once (a store that cannot refund throws {@link UnsupportedOperationException}
   * from this call, as {@link #refund} does).
   *
   * @param key the key, not null
   * @param policy the key's policy, not null
   * @param permits at least 1, at most the policy's smallest capacity
   * @param heldNanos at least the time since the permits were taken, 0 or more
   * @return completed when the refund is applied, or exceptionally with
   *     {@link StoreUnavailableException} as {@link #refund} throws it
   */
  default CompletionStage<Void> refundAsync(K key, Policy policy, long permits, long heldNanos) {
    try {
      refund(key, policy, permits, heldNanos);
      return CompletableFuture.completedFuture(null);
    } catch (StoreUnavailableException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Reserves {@code permits} on {@code key}'s bucket if every limit of {@code policy} will hold
   * them within {@code maxWaitNanos}, atomically at the store's time: with {@code base =
   * max(emptyAt, now - C*T)}, the due instant is {@code D = max(now, base + n*T)} (the latest over
   * the limits); if {@code D - now <= maxWaitNanos} each limit is charged as if taken at {@code D}
   * ({@code emptyAt := max(emptyAt, D - C*T) + n*T}), otherwise nothing is written. A request
   * above a capacity is refused at once ({@link Reservation#exceedsCapacity()}). The returned
   * reservation's {@link Reservation#cancel()} follows the rule written there.
   *
   * <p>The default throws {@link UnsupportedOperationException}: only {@code InMemoryStore}
   * reserves so far.
   *
   * @param key the key, not null
   * @param policy the key's policy, not null
   * @param permits at least 1
   * @param maxWaitNanos the longest acceptable wait, from 0 to 2<sup>61</sup>
   * @return the reservation
   */
  default Reservation reserve(K key, Policy policy, long permits, long maxWaitNanos) {
    throw new UnsupportedOperationException(getClass().getName() + " cannot reserve permits");
  }

  /**
   * Tells the store that {@code replaced} is no longer any key's policy: it was replaced by
   * {@code replacement} ({@code RateLimiter.updatePolicy}, {@code Plans.update}). Called before
   * the replacement is published, so a call that still carries {@code replaced} (its policy was
   * read just before the change) reaches the store after this: it must then be decided under
   * {@code replacement}, never convert a key back to {@code replaced} — converting back and
   * forth would restart a limit the older policy lacks, an over-admission. A later replacement of
   * {@code replacement} by {@code replaced} makes {@code replaced} current again, and
   * {@code policyReplaced(p, p)} makes {@code p} current (it is some key's policy again). The default
   * does nothing: right for a store that decides under one policy only.
   *
   * @param replaced the policy replaced, not null
   * @param replacement the policy that replaced it, not null
   */
  default void policyReplaced(Policy replaced, Policy replacement) {}

  /**
   * Whole permits {@code key} could take now, taking none.
   *
   * @param key the key, not null
   * @param policy the key's policy, not null
   * @return permits available
   */
  long availablePermits(K key, Policy policy);

  /**
   * How many nodes share this store's buckets, as last learned (a remote store counts the live
   * nodes of its namespace and limiter rarely, on its own schedule, never with an extra round
   * trip per decision); at least 1. While this store cannot decide, a limiter in
   * {@link dev.sluice.FailureMode#LOCAL} enforces {@code 1/N} of the policy on its node. The
   * default is 1: a store of one node's buckets.
   *
   * @return the live nodes, at least 1
   */
  default long liveNodes() {
    return 1;
  }

  /**
   * How many keys this store holds state for, or -1 if unknown. Full buckets that the store has
   * not dropped yet may be counted.
   *
   * @return keys held, or -1
   */
  long size();

  /**
   * How many buckets this store has evicted (dropped before they were full) since it was
   * created; 0 for stores that never do.
   *
   * @return evictions so far
   */
  default long evictions() {
    return 0;
  }

  /**
   * How many times this store found that its backend had lost the buckets' state (a Redis
   * restarted without its data, a flush) since it was created; 0 for stores that cannot lose it
   * or cannot tell. After such a loss every bucket starts full again.
   *
   * @return state losses noticed so far
   */
  default long stateLosses() {
    return 0;
  }

  /** Releases what the store owns; later calls may fail. Idempotent. */
  @Override
  void close();
}
