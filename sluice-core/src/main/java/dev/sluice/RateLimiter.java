package dev.sluice;

import dev.sluice.internal.Engine;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import dev.sluice.spi.StoreUnavailableException;
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
  private final Policy policy;
  private final RateStore<K> store;
  private final FailureMode failureMode;
  private final Ticker ticker;
  private final RateLimitListener listener;
  private final FailureLog failureLog;
  private volatile RateStore<K> localFallback;
  private volatile boolean closed;

  private RateLimiter(
      String name, Policy policy, RateStore<K> store, FailureMode failureMode, Ticker ticker,
      RateLimitListener listener) {
    this.name = name;
    this.policy = policy;
    this.store = store;
    this.failureMode = failureMode;
    this.ticker = ticker;
    this.listener = listener;
    this.failureLog = new FailureLog(name, failureMode);
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

  private Decision onFailure(K key, long permits, Throwable error) {
    backendError(error);
    failureLog.failed(error);
    return switch (failureMode) {
      case OPEN -> Decision.FAILED_OPEN;
      case CLOSED -> Decision.FAILED_CLOSED;
      case LOCAL -> {
        try {
          yield local().decide(key, permits).asLocalFallback();
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
    return new Builder(Objects.requireNonNull(policy, "policy"));
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
    long start = listener == null ? 0 : System.nanoTime();
    if (closed) {
      return CompletableFuture.completedFuture(settle(key, permits, afterClose(), null, start));
    }
    CompletionStage<Decision> stage;
    try {
      stage = store.decideAsync(key, permits);
    } catch (StoreUnavailableException e) {
      return CompletableFuture.completedFuture(settle(key, permits, null, e, start));
    }
    return stage.handle((decision, failure) -> settle(key, permits, decision, failure, start));
  }

  /** The synchronous path; without a listener and a report, the store's allocation-free path. */
  private Decision decide(K key, long permits, boolean report) {
    Objects.requireNonNull(key, "key");
    Engine.checkPermits(permits);
    long start = listener == null ? 0 : System.nanoTime();
    if (closed) {
      return settle(key, permits, afterClose(), null, start);
    }
    Decision d;
    try {
      d = report || listener != null
          ? store.decide(key, permits)
          : store.tryAcquire(key, permits) ? Engine.TAKEN : Engine.REFUSED;
    } catch (StoreUnavailableException e) {
      return settle(key, permits, null, e, start);
    }
    return listener == null ? d : settle(key, permits, d, null, start);
  }

  /**
   * Where every path ends: a store failure becomes the failure mode's answer, and the listener
   * hears the decision. Other failures propagate.
   */
  private Decision settle(K key, long permits, Decision d, Throwable failure, long start) {
    if (failure != null) {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      if (!(cause instanceof StoreUnavailableException)) {
        throw failure instanceof CompletionException ce ? ce : new CompletionException(cause);
      }
      d = onFailure(key, permits, cause);
    }
    if (listener != null) {
      try {
        listener.onDecision(name, d.allowed(), d.source(), System.nanoTime() - start);
      } catch (RuntimeException ignored) {
        // a listener cannot change a decision
      }
    }
    return d;
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
    Engine.checkRefund(policy, permits);
    long held = Engine.heldNanos(heldFor);
    if (closed) {
      return false;
    }
    try {
      store.refund(key, permits, held);
      return true;
    } catch (StoreUnavailableException e) {
      backendError(e);
      return false;
    }
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
    if (!closed) {
      try {
        return store.availablePermits(key);
      } catch (StoreUnavailableException e) {
        if (failureMode == FailureMode.LOCAL) {
          try {
            return local().availablePermits(key);
          } catch (StoreUnavailableException closedMeanwhile) {
            return 0;
          }
        }
      }
    }
    return failureMode == FailureMode.OPEN ? policy.maxPermitsPerRequest() : 0;
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
   * The policy enforced per key.
   *
   * @return the policy
   */
  public Policy policy() {
    return policy;
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
    return "RateLimiter[" + name + ", " + policy + "]";
  }

  /** Builds a {@link RateLimiter}. Not thread-safe; reusable. */
  public static final class Builder {

    private final Policy policy;
    private Ticker ticker = Ticker.system();
    private RateStoreFactory storeFactory = InMemoryStore.factory();
    private String name = "default";
    private FailureMode failureMode = FailureMode.LOCAL;
    private RateLimitListener listener;

    private Builder(Policy policy) {
      this.policy = policy;
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
    public <K> RateLimiter<K> build() {
      RateStore<K> store = storeFactory.create(name, policy, ticker);
      return new RateLimiter<>(
          name, policy, Objects.requireNonNull(store, "store"), failureMode, ticker, listener);
    }
  }
}
