package dev.sluice;

import dev.sluice.internal.Engine;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import dev.sluice.spi.StoreUnavailableException;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * A keyed rate limiter: an independent bucket per key, created lazily on the key's first
 * request, kept in a {@link RateStore} (in memory by default). Safe under any number of threads,
 * with no global lock; each key's decisions are linearizable.
 *
 * <pre>{@code
 * RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10).withCapacity(20)).build();
 * Decision d = limiter.decide(clientId, 1);
 * if (!d.allowed()) { ... d.retryAfter() ... }
 * }</pre>
 *
 * <p>When the store cannot decide (it throws {@link StoreUnavailableException}: a remote backend
 * is down or past its deadline), the limiter follows its {@link FailureMode} (default
 * {@link FailureMode#LOCAL}) and marks the decision with its {@link Decision.Source}.
 *
 * @param <K> the key type; keys are compared with {@code equals}
 */
public final class RateLimiter<K> implements AutoCloseable {

  private final String name;
  /** The policy of every key when there are no plans; replaced by {@link #updatePolicy}. */
  private volatile Policy policy;
  /** Null for a one-policy limiter. */
  private final Plans<K> plans;
  private final RateStore<K> store;
  private final FailureMode failureMode;
  private final Ticker ticker;
  private final RateLimitListener listener;
  private final FailureLog failureLog;
  private final boolean shadow;
  private final double nearLimit;
  /** {@link #nearLimit} as the decimal it prints as (0.29, not 0.28999999999999998): exact. */
  private final BigDecimal nearLimitDecimal;
  private volatile RateStore<K> localFallback;
  private volatile boolean closed;
  private final Parker parker;
  /** Null: the shared one. */
  private final Scheduler scheduler;

  private RateLimiter(
      String name, Policy policy, Plans<K> plans, RateStore<K> store, FailureMode failureMode,
      Ticker ticker, RateLimitListener listener, boolean shadow, double nearLimit,
      Parker parker, Scheduler scheduler) {
    this.parker = parker;
    this.scheduler = scheduler;
    this.name = name;
    this.policy = policy;
    this.plans = plans;
    this.store = store;
    this.failureMode = failureMode;
    this.ticker = ticker;
    this.listener = listener;
    this.failureLog = new FailureLog(name, failureMode);
    this.shadow = shadow;
    this.nearLimit = nearLimit;
    this.nearLimitDecimal = BigDecimal.valueOf(nearLimit);
  }

  /**
   * Whether {@code remaining} permits of {@code capacity} are at or below the near-limit
   * fraction, the fraction read as the decimal it is written as: 0.29 of 100 is 29, where
   * {@code 0.29 * 100} is 28.999999999999996 in doubles. The double product is within 1 of the
   * exact one (capacities are at most 10^15), so only counts within 1 of it are compared exactly.
   */
  private boolean nearLimit(long remaining, long capacity) {
    double threshold = nearLimit * capacity;
    if (remaining < threshold - 1) {
      return true;
    }
    if (remaining > threshold + 1) {
      return false;
    }
    return BigDecimal.valueOf(remaining)
        .compareTo(nearLimitDecimal.multiply(BigDecimal.valueOf(capacity))) <= 0;
  }

  /** The policy {@code key} is decided under now. */
  private Policy policyFor(K key) {
    if (plans == null) {
      return policy;
    }
    return plans.policyFor(key);
  }

  private void backendError(Throwable error) {
    if (listener != null) {
      try {
        listener.onBackendError(name, error);
      } catch (RuntimeException ignored) {
        // a listener cannot change a decision
      }
    }
  }

  private Decision onFailure(K key, Policy keyPolicy, long permits, Throwable error) {
    backendError(error);
    failureLog.failed(error);
    return switch (failureMode) {
      case OPEN -> Decision.FAILED_OPEN;
      case CLOSED -> Decision.FAILED_CLOSED;
      case LOCAL -> {
        try {
          yield local().decide(key, share(keyPolicy), permits).asLocalFallback();
        } catch (StoreUnavailableException closedMeanwhile) {
          yield afterClose();
        }
      }
    };
  }

  /** After {@link #close()}: OPEN admits, CLOSED and LOCAL refuse (a closed limiter holds no buckets). */
  private Decision afterClose() {
    return failureMode == FailureMode.OPEN ? Decision.FAILED_OPEN : Decision.FAILED_CLOSED;
  }

  /** The last share computed: the policy, the node count and that node's share of it. */
  private record Share(Policy policy, long nodes, Policy share) {}

  private volatile Share lastShare;

  /**
   * This node's share of {@code keyPolicy} for the local fallback: {@code 1/N} of it when the
   * store reports {@code N} live nodes ({@link Shares}), so the fleet's fallbacks together do not
   * multiply the limit by N. The last one is kept: it changes only with the count or the policy.
   */
  private Policy share(Policy keyPolicy) {
    long nodes = Math.max(1, store.liveNodes());
    Share s = lastShare;
    if (s == null || s.policy != keyPolicy || s.nodes != nodes) {
      s = new Share(keyPolicy, nodes, Shares.of(keyPolicy, nodes));
      lastShare = s;
    }
    return s.share;
  }

  private RateStore<K> local() {
    RateStore<K> local = localFallback;
    if (local == null) {
      synchronized (this) {
        local = localFallback;
        if (local == null) {
          if (closed) {
            // close() has run (under this lock): never create a store nobody will close
            throw new StoreUnavailableException("limiter " + name + " is closed");
          }
          local = InMemoryStore.factory().create(name, policy, ticker);
          localFallback = local;
        }
      }
    }
    return local;
  }

  /**
   * A builder for a limiter enforcing one limit per key.
   *
   * @param limit the limit
   * @return a builder
   */
  public static Builder builder(Limit limit) {
    return builder(Policy.of(Objects.requireNonNull(limit, "limit")));
  }

  /**
   * A builder for a limiter enforcing a policy per key.
   *
   * @param policy the limits, checked all-or-nothing
   * @return a builder
   */
  public static Builder builder(Policy policy) {
    return new Builder(Objects.requireNonNull(policy, "policy"), null);
  }

  /**
   * A builder for a limiter deciding each key under its plan's policy ({@link Plans}). The
   * limiter's key type must be the plans' ({@code RateLimiter<String> l =
   * RateLimiter.builder(stringPlans).build()}).
   *
   * @param plans the plans
   * @return a builder
   */
  public static Builder builder(Plans<?> plans) {
    Objects.requireNonNull(plans, "plans");
    return new Builder(plans.first(), plans);
  }

  /**
   * Takes one permit from {@code key}'s bucket if available.
   *
   * @param key the key, not null
   * @return whether it was taken
   */
  public boolean tryAcquire(K key) {
    return tryAcquire(key, 1);
  }

  /**
   * Takes {@code permits} from {@code key}'s bucket if every limit has them.
   *
   * @param key the key, not null
   * @param permits at least 1
   * @return whether they were taken
   * @throws IllegalArgumentException if {@code permits < 1}
   */
  public boolean tryAcquire(K key, long permits) {
    return decide(key, permits, false).allowed();
  }

  /**
   * Takes {@code permits} from {@code key}'s bucket if every limit has them, and reports.
   *
   * @param key the key, not null
   * @param permits at least 1
   * @return the decision
   * @throws IllegalArgumentException if {@code permits < 1}
   */
  public Decision decide(K key, long permits) {
    return decide(key, permits, true);
  }

  /**
   * The asynchronous form of {@link #decide}, for remote stores; the same bucket function.
   *
   * @param key the key, not null
   * @param permits at least 1
   * @return the decision, later
   * @throws IllegalArgumentException if {@code permits < 1}
   */
  public CompletionStage<Decision> decideAsync(K key, long permits) {
    Objects.requireNonNull(key, "key");
    Engine.checkPermits(permits);
    Policy p = policyFor(key);
    long start = listener == null ? 0 : System.nanoTime();
    if (closed) {
      return CompletableFuture.completedFuture(settle(key, p, permits, afterClose(), null, start));
    }
    CompletionStage<Decision> stage;
    try {
      stage = store.decideAsync(key, p, permits);
    } catch (StoreUnavailableException e) {
      return CompletableFuture.completedFuture(settle(key, p, permits, null, e, start));
    }
    return stage.handle((decision, failure) -> settle(key, p, permits, decision, failure, start));
  }

  /** The synchronous path; without a listener, shadow and a report, the store's allocation-free path. */
  private Decision decide(K key, long permits, boolean report) {
    Objects.requireNonNull(key, "key");
    Engine.checkPermits(permits);
    Policy p = policyFor(key);
    long start = listener == null ? 0 : System.nanoTime();
    if (closed) {
      return settle(key, p, permits, afterClose(), null, start);
    }
    Decision d;
    try {
      d = report || listener != null || shadow
          ? store.decide(key, p, permits)
          : store.tryAcquire(key, p, permits) ? Engine.TAKEN : Engine.REFUSED;
    } catch (StoreUnavailableException e) {
      return settle(key, p, permits, null, e, start);
    }
    return listener == null && !shadow ? d : settle(key, p, permits, d, null, start);
  }

  /**
   * Where every path ends: a store failure becomes the failure mode's answer, the listener hears
   * the decision (and whether it leaves the key near its limit), and in shadow mode a refusal is
   * let through. Other failures propagate.
   */
  private Decision settle(
      K key, Policy p, long permits, Decision d, Throwable failure, long start) {
    if (failure != null) {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      if (!(cause instanceof StoreUnavailableException)) {
        throw failure instanceof CompletionException ce ? ce : new CompletionException(cause);
      }
      d = onFailure(key, p, permits, cause);
    }
    if (listener != null) {
      try {
        long latency = System.nanoTime() - start;
        if (shadow) {
          listener.onShadowDecision(name, d.allowed(), d.source(), latency);
        } else {
          listener.onDecision(name, d.allowed(), d.source(), latency);
        }
        if (d.allowed() && d.bindingIndex() >= 0 && nearLimit(d.remaining(), d.limit())) {
          listener.onNearLimit(name, d.remaining(), d.limit());
        }
      } catch (RuntimeException ignored) {
        // a listener cannot change a decision
      }
    }
    return shadow && !d.allowed() ? d.asShadowed() : d;
  }

  /**
   * Reserves {@code permits} on {@code key}'s bucket if every limit will hold them within
   * {@code maxWait}: they are taken now, as debt, and due at the earliest instant the exact
   * bucket holds them after every earlier reservation of the key ({@link Reservation#dueAt()},
   * on this limiter's ticker); a key's reservations are due in the order they are made, and one
   * that would wait longer than {@code maxWait} takes nothing. {@code maxWait} zero decides as
   * {@link #tryAcquire(Object, long)}. Listeners hear it as a decision (allowed if granted).
   *
   * <p>When the store cannot decide, the failure mode answers: {@code OPEN} grants at once
   * (nothing counted, nothing to cancel), {@code CLOSED} refuses (the reservation has no due
   * instant), {@code LOCAL} reserves on this node's in-memory bucket. In shadow mode the
   * reservation is made as if enforcing and returned granted and due at once (it cannot be
   * cancelled).
   *
   * @param key the key, not null
   * @param permits at least 1; more than a capacity gives a refusal that
   *     {@link Reservation#exceedsCapacity()}, at once
   * @param maxWait the longest acceptable wait, zero or more (cut to 73 years)
   * @return the reservation, granted or refused
   * @throws IllegalArgumentException if {@code permits < 1} or {@code maxWait} is negative
   * @throws UnsupportedOperationException if the store cannot reserve (only the in-memory store
   *     can, so far)
   */
  public Reservation reserve(K key, long permits, Duration maxWait) {
    Objects.requireNonNull(key, "key");
    Engine.checkPermits(permits);
    return reserveNanos(key, permits, Engine.waitNanos(maxWait, "maxWait"));
  }

  /**
   * Takes {@code permits} from {@code key}'s bucket, waiting (parked) as long as needed for them
   * to be due. Interruption while waiting cancels the reservation ({@link Reservation#cancel()})
   * and returns false, the thread's interrupt flag still set.
   *
   * @param key the key, not null
   * @param permits at least 1
   * @return true once the permits are the caller's; false if they exceed a capacity (at once, no
   *     wait is enough), if the failure mode refuses, or if interrupted
   * @throws IllegalArgumentException if {@code permits < 1}
   * @throws UnsupportedOperationException if the store cannot reserve
   */
  public boolean acquire(K key, long permits) {
    Objects.requireNonNull(key, "key");
    Engine.checkPermits(permits);
    return Waiting.await(reserveNanos(key, permits, Engine.MAX_WAIT_NANOS), parker);
  }

  /**
   * Takes {@code permits} from {@code key}'s bucket if they will be due within {@code timeout},
   * waiting (parked) until they are; takes nothing and returns false at once if they would not
   * be. Interruption while waiting cancels the reservation and returns false, the interrupt flag
   * still set.
   *
   * @param key the key, not null
   * @param permits at least 1
   * @param timeout the longest wait, zero or more
   * @return whether the permits are the caller's
   * @throws IllegalArgumentException if {@code permits < 1} or {@code timeout} is negative
   * @throws UnsupportedOperationException if the store cannot reserve
   */
  public boolean acquire(K key, long permits, Duration timeout) {
    Objects.requireNonNull(key, "key");
    Engine.checkPermits(permits);
    return Waiting.await(reserveNanos(key, permits, Engine.waitNanos(timeout, "timeout")), parker);
  }

  /**
   * Reserves as {@link #reserve} does and completes when the permits are due, without a thread
   * per waiter: true at the due instant (on the shared scheduler thread, see
   * {@code docs/waiting.md}), false at once if refused. Cancelling the future before it
   * completes cancels the reservation.
   *
   * @param key the key, not null
   * @param permits at least 1
   * @param maxWait the longest acceptable wait, zero or more
   * @return true when the permits are the caller's, false if refused
   * @throws IllegalArgumentException if {@code permits < 1} or {@code maxWait} is negative
   * @throws UnsupportedOperationException if the store cannot reserve
   */
  public CompletionStage<Boolean> acquireAsync(K key, long permits, Duration maxWait) {
    Objects.requireNonNull(key, "key");
    Engine.checkPermits(permits);
    Reservation r = reserveNanos(key, permits, Engine.waitNanos(maxWait, "maxWait"));
    return Waiting.async(r, scheduler != null ? scheduler : Scheduler.shared());
  }

  /** The one reservation path: the store, or the failure mode; listeners; shadow. */
  private Reservation reserveNanos(K key, long permits, long maxWaitNanos) {
    Policy p = policyFor(key);
    long start = listener == null ? 0 : System.nanoTime();
    Reservation r;
    Decision.Source source = Decision.Source.STORE;
    if (closed) {
      r = failureMode == FailureMode.OPEN ? Reservation.immediate(permits, ticker.read(), ticker)
          : Reservation.unavailable(permits, ticker.read(), ticker);
      source = failureMode == FailureMode.OPEN ? Decision.Source.FAILURE_OPEN
          : Decision.Source.FAILURE_CLOSED;
    } else {
      try {
        r = store.reserve(key, p, permits, maxWaitNanos);
      } catch (StoreUnavailableException e) {
        backendError(e);
        failureLog.failed(e);
        switch (failureMode) {
          case OPEN -> {
            r = Reservation.immediate(permits, ticker.read(), ticker);
            source = Decision.Source.FAILURE_OPEN;
          }
          case CLOSED -> {
            r = Reservation.unavailable(permits, ticker.read(), ticker);
            source = Decision.Source.FAILURE_CLOSED;
          }
          default -> {
            try {
              r = local().reserve(key, share(p), permits, maxWaitNanos);
              source = Decision.Source.LOCAL_FALLBACK;
            } catch (StoreUnavailableException closedMeanwhile) {
              r = Reservation.unavailable(permits, ticker.read(), ticker);
              source = Decision.Source.FAILURE_CLOSED;
            }
          }
        }
      }
    }
    if (listener != null) {
      try {
        long latency = System.nanoTime() - start;
        if (shadow) {
          listener.onShadowDecision(name, r.granted(), source, latency);
        } else {
          listener.onDecision(name, r.granted(), source, latency);
        }
      } catch (RuntimeException ignored) {
        // a listener cannot change a decision
      }
    }
    return shadow && !(r.granted() && r.due() == r.reservedAt())
        ? Reservation.immediate(permits, r.reservedAt(), r.ticker()) : r;
  }

  /**
   * Gives back {@code permits} that a request took from {@code key}'s bucket {@code heldFor} ago
   * (at most) and that should not count after all: a request that failed, one refused by another
   * limit. Each limit regains them less the refill it earned while they were out (a bucket that
   * would have been full meanwhile would have thrown that refill away), never beyond its
   * capacity: {@code emptyAt' = max(emptyAt - max(0, n*T - heldFor), now - C*T)}. So a refund
   * never lets more through than the limit, whatever happened in between; given back at once, it
   * is exact. Give back only what was taken, and pass an upper bound of the time since: the
   * limiter cannot tell, and an under-estimate can let through more than the limit.
   *
   * <p>When the store cannot be reached (or after {@link #close()}), nothing is given back and
   * this returns false: the key then holds fewer permits than it could, never more. A remote
   * store that missed its deadline may still have applied the refund, once.
   *
   * @param key the key, not null
   * @param permits at least 1, at most the policy's smallest capacity
   * @param heldFor at least the time since the permits were taken, by this limiter's ticker
   *     (for a remote store, by its clock)
   * @return whether the store applied the refund
   * @throws IllegalArgumentException if {@code permits} is out of range or {@code heldFor}
   *     negative
   * @throws UnsupportedOperationException if the store cannot give permits back
   */
  public boolean refund(K key, long permits, Duration heldFor) {
    Objects.requireNonNull(key, "key");
    Policy p = policyFor(key);
    Engine.checkRefund(p, permits);
    long held = Engine.heldNanos(heldFor);
    if (closed) {
      return false;
    }
    try {
      store.refund(key, p, permits, held);
      return true;
    } catch (StoreUnavailableException e) {
      backendError(e);
      return false;
    }
  }

  /**
   * The asynchronous form of {@link #refund}, for remote stores: the same refund, and the same
   * answer later (false when the store cannot be reached or the limiter is closed). Does not
   * block where the store does not ({@link RateStore#refundAsync}); the in-memory store completes
   * it at once, on the caller's thread.
   *
   * @param key the key, not null
   * @param permits at least 1, at most the policy's smallest capacity
   * @param heldFor at least the time since the permits were taken, as for {@link #refund}
   * @return whether the store applied the refund, later
   * @throws IllegalArgumentException if {@code permits} is out of range or {@code heldFor}
   *     negative
   * @throws UnsupportedOperationException if the store cannot give permits back
   */
  public CompletionStage<Boolean> refundAsync(K key, long permits, Duration heldFor) {
    Objects.requireNonNull(key, "key");
    Policy p = policyFor(key);
    Engine.checkRefund(p, permits);
    long held = Engine.heldNanos(heldFor);
    if (closed) {
      return CompletableFuture.completedFuture(false);
    }
    CompletionStage<Void> stage;
    try {
      stage = store.refundAsync(key, p, permits, held);
    } catch (StoreUnavailableException e) {
      backendError(e);
      return CompletableFuture.completedFuture(false);
    }
    return stage.handle((ok, failure) -> {
      if (failure == null) {
        return true;
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      if (cause instanceof StoreUnavailableException e) {
        backendError(e);
        return false;
      }
      throw failure instanceof CompletionException ce ? ce : new CompletionException(cause);
    });
  }

  /**
   * Whole permits {@code key} could take now, taking none. When the store cannot answer (or after
   * {@link #close()}), the failure mode does: {@code OPEN} reports a full bucket (the smallest
   * capacity of the policy), {@code CLOSED} reports 0, {@code LOCAL} reports this node's
   * in-memory bucket (0 after close).
   *
   * @param key the key, not null
   * @return permits available
   */
  public long availablePermits(K key) {
    Objects.requireNonNull(key, "key");
    Policy p = policyFor(key);
    if (!closed) {
      try {
        return store.availablePermits(key, p);
      } catch (StoreUnavailableException e) {
        if (failureMode == FailureMode.LOCAL) {
          try {
            return local().availablePermits(key, share(p));
          } catch (StoreUnavailableException closedMeanwhile) {
            return 0;
          }
        }
      }
    }
    return failureMode == FailureMode.OPEN ? p.maxPermitsPerRequest() : 0;
  }

  /**
   * The number of keys whose buckets the store holds, or -1 if it cannot tell.
   *
   * @return keys held
   */
  public long size() {
    return store.size();
  }

  /**
   * Buckets the store has evicted so far (0 for stores that never evict).
   *
   * @return evictions since the store was created
   */
  public long evictions() {
    return store.evictions();
  }

  /**
   * Times the store found that its backend had lost the buckets' state (a Redis restarted
   * without its data, a flush: every bucket full again); 0 for stores that cannot lose it.
   *
   * @return state losses noticed since the store was created
   */
  public long stateLosses() {
    return store.stateLosses();
  }

  /**
   * The live nodes sharing this limiter's store, as the store last counted them (the Redis
   * store: its heartbeats); 1 for a store of one node's buckets. While the store cannot decide,
   * {@link FailureMode#LOCAL} enforces {@code 1/N} of the policy on this node.
   *
   * @return the live nodes, at least 1
   */
  public long liveNodes() {
    return Math.max(1, store.liveNodes());
  }

  /**
   * The policy enforced per key (with plans: the first plan's policy; see {@link #policyFor}).
   *
   * @return the policy
   */
  public Policy policy() {
    return plans == null ? policy : plans.first();
  }

  /**
   * The policy {@code key} is decided under now (its plan's, with plans).
   *
   * @param key the key, not null
   * @return the policy
   * @throws IllegalStateException if the plans' function assigns the key no plan
   */
  public Policy policy(K key) {
    return policyFor(Objects.requireNonNull(key, "key"));
  }

  /**
   * Replaces the policy of every key, live: the next decision of each key is made under
   * {@code newPolicy}, with no pause and no lost state. Each key's bucket is converted at its
   * next call by the carry-over rule: each limit keeps the permits the limit at the same
   * position held at that instant (capped at its new capacity) and refills at the new rate from
   * then; a limit with no counterpart starts as a new bucket's would. No decision mixes the old
   * and the new limits. With {@link Plans}, change a plan instead ({@link Plans#update}).
   *
   * @param newPolicy the new policy
   * @throws IllegalStateException if this limiter has plans
   */
  public void updatePolicy(Policy newPolicy) {
    Objects.requireNonNull(newPolicy, "newPolicy");
    if (plans != null) {
      throw new IllegalStateException(
          "limiter " + name + " decides by plans: change a plan with Plans.update");
    }
    synchronized (this) {
      Policy old = policy;
      if (!old.equals(newPolicy)) {
        replaced(old, newPolicy);
      }
      // (equal policies: nothing replaced, the current one stays)
      policy = newPolicy;
    }
  }

  /**
   * Tells the stores (before the new policy is published) that {@code old} was replaced, so
   * that a call still carrying it never converts a key back (see
   * {@link RateStore#policyReplaced}).
   */
  void replaced(Policy old, Policy replacement) {
    try {
      store.policyReplaced(old, replacement);
    } catch (RuntimeException e) {
      backendError(e);
    }
    RateStore<K> local = localFallback;
    if (local != null) {
      // the local buckets hold shares: tell it of the shares at today's node count
      long nodes = Math.max(1, store.liveNodes());
      local.policyReplaced(Shares.of(old, nodes), Shares.of(replacement, nodes));
    }
  }

  /**
   * Whether this limiter is in shadow mode: it decides and takes as if enforcing, reports the
   * would-be refusals, and lets every request through.
   *
   * @return true in shadow mode
   */
  public boolean shadow() {
    return shadow;
  }

  /**
   * This limiter's name.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * What this limiter answers when its store cannot.
   *
   * @return the failure mode
   */
  public FailureMode failureMode() {
    return failureMode;
  }

  /**
   * Closes the store this limiter created (which finishes or fails its in-flight work within its
   * own deadline and releases what it owns), and its local fallback if one was made. Afterwards
   * every decision is answered by the failure mode without touching the store: {@code OPEN}
   * admits, {@code CLOSED} and {@code LOCAL} refuse with {@link Decision.Source#FAILURE_CLOSED}.
   * Idempotent; never throws for in-flight callers.
   */
  @Override
  public void close() {
    closed = true;
    if (plans != null) {
      plans.detach(this);
    }
    store.close();
    RateStore<K> local;
    synchronized (this) {
      local = localFallback;
    }
    if (local != null) {
      local.close();
    }
  }

  @Override
  public String toString() {
    return "RateLimiter[" + name + ", " + (plans == null ? policy : plans)
        + (shadow ? ", shadow" : "") + "]";
  }

  /** Builds a {@link RateLimiter}. Not thread-safe; reusable. */
  public static final class Builder {

    /** The fraction of capacity at or below which an admitted request is reported near the limit. */
    public static final double DEFAULT_NEAR_LIMIT = 0.2;

    private final Policy policy;
    private final Plans<?> plans;
    private Ticker ticker = Ticker.system();
    private RateStoreFactory storeFactory = InMemoryStore.factory();
    private String name = "default";
    private FailureMode failureMode = FailureMode.LOCAL;
    private RateLimitListener listener;
    private boolean shadow;
    private double nearLimit = DEFAULT_NEAR_LIMIT;
    private Parker parker = Parker.SYSTEM;
    private Scheduler scheduler;

    /** For tests: how blocking acquires park. */
    Builder parker(Parker p) {
      this.parker = Objects.requireNonNull(p, "parker");
      return this;
    }

    /** For tests: the scheduler that completes asynchronous acquires. */
    Builder scheduler(Scheduler s) {
      this.scheduler = Objects.requireNonNull(s, "scheduler");
      return this;
    }

    private Builder(Policy policy, Plans<?> plans) {
      this.policy = policy;
      this.plans = plans;
    }

    /**
     * Shadow mode (default off): decide and take exactly as if enforcing, report every decision
     * to the listener as a shadow decision ({@link RateLimitListener#onShadowDecision}; the
     * Micrometer binding tags them {@code shadow=true}), and let every request through. A
     * would-be refusal comes back allowed and marked {@link Decision#wouldRefuse()}. For trying
     * a new limit on live traffic before enforcing it.
     *
     * @param on whether to run in shadow mode
     * @return this builder
     */
    public Builder shadow(boolean on) {
      this.shadow = on;
      return this;
    }

    /**
     * The near-limit signal (default {@value #DEFAULT_NEAR_LIMIT}): an admitted request that
     * leaves its key at or below this fraction of the binding limit's capacity is reported to
     * the listener ({@link RateLimitListener#onNearLimit}), so operators see customers approach
     * their limit before they are refused. The fraction is read as the decimal it is written as
     * (0.29 of a capacity of 100 is 29 permits). Costs nothing without a listener.
     *
     * @param fraction strictly between 0 and 1
     * @return this builder
     * @throws IllegalArgumentException if the fraction is not strictly between 0 and 1
     */
    public Builder nearLimit(double fraction) {
      if (!(fraction > 0 && fraction < 1)) {
        throw new IllegalArgumentException(
            "nearLimit (" + fraction + ") must be strictly between 0 and 1");
      }
      this.nearLimit = fraction;
      return this;
    }

    /**
     * The time source for the in-memory store (default {@link Ticker#system()}).
     *
     * @param ticker the ticker
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Where buckets live (default {@link InMemoryStore#factory()}).
     *
     * @param factory the store factory
     * @return this builder
     */
    public Builder store(RateStoreFactory factory) {
      this.storeFactory = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * A name for metrics and for namespacing keys in shared stores (default "default").
     *
     * @param name 1 to 64 characters from {@code [A-Za-z0-9._-]}
     * @return this builder
     */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new IllegalArgumentException(
            "name (\"" + name + "\") must be 1 to 64 characters from [A-Za-z0-9._-]");
      }
      this.name = name;
      return this;
    }

    /**
     * What to answer when the store cannot decide (default {@link FailureMode#LOCAL}).
     *
     * @param mode the failure mode
     * @return this builder
     */
    public Builder failureMode(FailureMode mode) {
      this.failureMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * Receives decisions and backend errors (default none, which costs nothing).
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder listener(RateLimitListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Builds the limiter and its store.
     *
     * @param <K> the key type
     * @return a new limiter
     */
    @SuppressWarnings("unchecked")
    public <K> RateLimiter<K> build() {
      RateStore<K> store = storeFactory.create(name, policy, ticker);
      RateLimiter<K> limiter = new RateLimiter<>(name, policy, (Plans<K>) plans,
          Objects.requireNonNull(store, "store"), failureMode, ticker, listener, shadow,
          nearLimit, parker, scheduler);
      if (plans != null) {
        plans.attach(limiter);
      }
      return limiter;
    }
  }
}
