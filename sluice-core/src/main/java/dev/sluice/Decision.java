package dev.sluice;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of one request for permits: what the HTTP layer turns into a status and headers.
 *
 * <ul>
 *   <li>{@link #allowed()}: whether the permits were taken;</li>
 *   <li>{@link #remaining()}: whole permits left after this decision (for a several-limit policy,
 *       the fewest left in any limit);</li>
 *   <li>{@link #limit()}: the capacity of the limit that {@code remaining} refers to, the
 *       <em>binding</em> limit ({@link #bindingLimit()}, {@link #bindingIndex()}): the one with
 *       the fewest permits left, the first such in the policy on a tie;</li>
 *   <li>{@link #retryAfter()}: zero when allowed; when denied, the shortest wait after which a
 *       request of the same size can succeed (if nothing else takes permits first); empty when
 *       it can never succeed, because it asks for more than the capacity;</li>
 *   <li>{@link #resetAfter()}: how long until the bucket is full again.</li>
 * </ul>
 *
 * <p>Waits are rounded up to whole nanoseconds, so a request made exactly {@code retryAfter}
 * later succeeds. When the store could not decide, the limiter's {@link FailureMode} did, and
 * {@link #source()} says which. Stores outside this module build decisions with the three static
 * factories.
 */
public final class Decision {

  /**
   * Who made a decision: the store, its cache of refusals, or the limiter's {@link FailureMode}
   * when the store could not.
   */
  public enum Source {
    /** The store applied the bucket function: the normal case. */
    STORE,
    /**
     * The store answered a refusal from its node-local cache of recent refusals, without asking
     * its backend (the Redis store's deny cache: a refusal the backend gave moments ago, still
     * true by the backend's clock less a safety margin). The counts are the cached refusal's,
     * brought forward by the time since; nothing was taken. Such an answer is possible while the
     * backend is unreachable too.
     */
    DENY_CACHE,
    /**
     * The store admitted the request from permits this node holds in a lease (the Redis store's
     * leasing of hot keys: permits taken from the shared bucket ahead of demand and counted
     * against its capacity there until they are used, given back or expired), without asking
     * its backend. {@link #remaining()} is then the permits left in this node's lease, not in the
     * shared bucket; {@link #resetAfter()} is the backend's time until full when the lease was
     * granted, less the time since: an estimate.
     */
    LEASE,
    /** The store failed and {@link FailureMode#OPEN} admitted the request without counting it. */
    FAILURE_OPEN,
    /** The store failed and {@link FailureMode#CLOSED} refused the request (HTTP 503). */
    FAILURE_CLOSED,
    /** The store failed and {@link FailureMode#LOCAL} decided on this node's in-memory buckets. */
    LOCAL_FALLBACK
  }

  private static final long NEVER = -1L;

  /** {@link FailureMode#OPEN}'s answer: admitted with no count behind it, bound by no limit. */
  static final Decision FAILED_OPEN = new Decision(true, 0, null, -1, 0, 0, Source.FAILURE_OPEN);

  /** {@link FailureMode#CLOSED}'s answer: refused because the store is unavailable. */
  static final Decision FAILED_CLOSED =
      new Decision(false, 0, null, -1, NEVER, 0, Source.FAILURE_CLOSED);

  private final boolean allowed;
  private final long remaining;
  private final Limit binding;
  private final int bindingIndex;
  private final long retryAfterNanos;
  private final long resetAfterNanos;
  private final Source source;
  private final boolean shadowed;

  private Decision(
      boolean allowed, long remaining, Limit binding, int bindingIndex, long retryAfterNanos,
      long resetAfterNanos, Source source) {
    this(allowed, remaining, binding, bindingIndex, retryAfterNanos, resetAfterNanos, source,
        false);
  }

  private Decision(
      boolean allowed, long remaining, Limit binding, int bindingIndex, long retryAfterNanos,
      long resetAfterNanos, Source source, boolean shadowed) {
    this.shadowed = shadowed;
    this.allowed = allowed;
    this.remaining = remaining;
    this.binding = binding;
    this.bindingIndex = bindingIndex;
    this.retryAfterNanos = retryAfterNanos;
    this.resetAfterNanos = resetAfterNanos;
    this.source = source;
  }

  /**
   * This refusal, marked as answered from the store's cache of recent refusals
   * ({@link Source#DENY_CACHE}), for store implementations.
   *
   * @return the same refusal, its source {@link Source#DENY_CACHE}
   * @throws IllegalStateException if this decision admitted its request (a cache of refusals
   *     never admits)
   */
  public Decision fromDenyCache() {
    if (allowed) {
      throw new IllegalStateException("a deny cache answers refusals only, not " + this);
    }
    return new Decision(false, remaining, binding, bindingIndex, retryAfterNanos,
        resetAfterNanos, Source.DENY_CACHE);
  }

  /**
   * This admission, marked as served from permits this node leased from its backend
   * ({@link Source#LEASE}), for store implementations.
   *
   * @return the same admission, its source {@link Source#LEASE}
   * @throws IllegalStateException if this decision refused its request (a lease only admits)
   */
  public Decision fromLease() {
    if (!allowed) {
      throw new IllegalStateException("a lease answers admissions only, not " + this);
    }
    return new Decision(true, remaining, binding, bindingIndex, 0L, resetAfterNanos,
        Source.LEASE);
  }

  /** This decision marked as made by {@link FailureMode#LOCAL} on this node's buckets. */
  Decision asLocalFallback() {
    return new Decision(allowed, remaining, binding, bindingIndex, retryAfterNanos,
        resetAfterNanos, Source.LOCAL_FALLBACK);
  }

  /**
   * This refusal, let through by a limiter in shadow mode: allowed, and marked
   * {@link #wouldRefuse()}; the counts and the wait are the refusal's.
   */
  Decision asShadowed() {
    return new Decision(true, remaining, binding, bindingIndex, retryAfterNanos,
        resetAfterNanos, source, true);
  }

  /**
   * Whether a limiter in shadow mode let this request through although it would have refused
   * it: {@link #allowed()} is then true, nothing was taken, and {@link #remaining()},
   * {@link #retryAfter()} and {@link #resetAfter()} are the refusal's (its would-be wait).
   * Always false for a limiter that enforces.
   *
   * @return true for a would-be refusal
   */
  public boolean wouldRefuse() {
    return shadowed;
  }

  /**
   * Who made this decision: {@link Source#STORE} normally, {@link Source#DENY_CACHE} for a
   * refusal the store answered from its cache, {@link Source#LEASE} for an admission it served
   * from permits this node leased.
   *
   * @return the source
   */
  public Source source() {
    return source;
  }

  /**
   * An admitted request.
   *
   * @param policy the policy decided
   * @param bindingIndex the index in {@code policy} of the limit {@code remaining} refers to
   * @param remaining whole permits left in that limit, from 0 to its capacity
   * @param resetAfterNanos nanoseconds until full, at least 0
   * @return the decision
   */
  public static Decision allowed(
      Policy policy, int bindingIndex, long remaining, long resetAfterNanos) {
    Limit binding = check(policy, bindingIndex, remaining, resetAfterNanos);
    return new Decision(true, remaining, binding, bindingIndex, 0L, resetAfterNanos, Source.STORE);
  }

  /**
   * A refused request that can succeed after waiting.
   *
   * @param policy the policy decided
   * @param bindingIndex the index in {@code policy} of the limit {@code remaining} refers to
   * @param remaining whole permits available now in that limit, from 0 to its capacity
   * @param retryAfterNanos nanoseconds until a request of the same size can succeed, at least 1
   * @param resetAfterNanos nanoseconds until full, at least 0
   * @return the decision
   */
  public static Decision denied(Policy policy, int bindingIndex, long remaining,
      long retryAfterNanos, long resetAfterNanos) {
    Limit binding = check(policy, bindingIndex, remaining, resetAfterNanos);
    if (retryAfterNanos < 1) {
      throw new IllegalArgumentException(
          "retryAfterNanos (" + retryAfterNanos + ") must be at least 1 for a denial");
    }
    return new Decision(false, remaining, binding, bindingIndex, retryAfterNanos, resetAfterNanos,
        Source.STORE);
  }

  /**
   * A refused request that can never succeed: it asks for more permits than a capacity.
   *
   * @param policy the policy decided
   * @param bindingIndex the index in {@code policy} of the limit {@code remaining} refers to
   * @param remaining whole permits available now in that limit, from 0 to its capacity
   * @param resetAfterNanos nanoseconds until full, at least 0
   * @return the decision
   */
  public static Decision exceedsCapacity(
      Policy policy, int bindingIndex, long remaining, long resetAfterNanos) {
    Limit binding = check(policy, bindingIndex, remaining, resetAfterNanos);
    return new Decision(false, remaining, binding, bindingIndex, NEVER, resetAfterNanos,
        Source.STORE);
  }

  private static Limit check(
      Policy policy, int bindingIndex, long remaining, long resetAfterNanos) {
    List<Limit> limits = Objects.requireNonNull(policy, "policy").limits();
    if (bindingIndex < 0 || bindingIndex >= limits.size()) {
      throw new IllegalArgumentException("bindingIndex (" + bindingIndex
          + ") must be from 0 to " + (limits.size() - 1) + " for " + policy);
    }
    Limit binding = limits.get(bindingIndex);
    if (remaining < 0 || remaining > binding.capacity()) {
      throw new IllegalArgumentException("remaining (" + remaining + ") must be from 0 to "
          + binding.capacity() + ", the capacity of the binding limit");
    }
    if (resetAfterNanos < 0) {
      throw new IllegalArgumentException(
          "resetAfterNanos (" + resetAfterNanos + ") must be at least 0");
    }
    return binding;
  }

  /**
   * Whether the permits were taken.
   *
   * @return true if admitted
   */
  public boolean allowed() {
    return allowed;
  }

  /**
   * Whole permits left after this decision.
   *
   * @return remaining permits, at least 0
   */
  public long remaining() {
    return remaining;
  }

  /**
   * The capacity of the limit that {@link #remaining()} refers to (1 for a failure mode's
   * decision, which no limit bound).
   *
   * @return the capacity
   */
  public long limit() {
    return binding == null ? 1 : binding.capacity();
  }

  /**
   * The limit that bound this decision: the one {@link #remaining()} refers to, with the fewest
   * permits left (the first such in the policy on a tie). Empty for a failure mode's
   * {@link Source#FAILURE_OPEN} or {@link Source#FAILURE_CLOSED} answer, which no limit bound.
   *
   * @return the binding limit, or empty
   */
  public Optional<Limit> bindingLimit() {
    return Optional.ofNullable(binding);
  }

  /**
   * The index of {@link #bindingLimit()} in the policy's {@link Policy#limits()}, or -1 when no
   * limit bound the decision.
   *
   * @return the index, or -1
   */
  public int bindingIndex() {
    return bindingIndex;
  }

  /**
   * Whether a request of this size could ever succeed; false only when it asks for more than the
   * capacity. (A {@link Source#FAILURE_CLOSED} refusal can succeed once the store is back; its
   * {@link #retryAfter()} is empty because nobody knows when.)
   *
   * @return false if the request exceeds the capacity
   */
  public boolean canEverSucceed() {
    return retryAfterNanos != NEVER || source == Source.FAILURE_CLOSED;
  }

  /**
   * Zero when allowed; the wait before a request of this size can succeed when denied; empty when
   * it can never succeed, or when the store was unavailable ({@link Source#FAILURE_CLOSED}).
   *
   * @return the wait, or empty
   */
  public Optional<Duration> retryAfter() {
    return retryAfterNanos == NEVER ? Optional.empty() : Optional.of(Duration.ofNanos(retryAfterNanos));
  }

  /**
   * {@link #retryAfter()} in nanoseconds, or -1 when the request can never succeed.
   *
   * @return nanoseconds, or -1
   */
  public long retryAfterNanos() {
    return retryAfterNanos;
  }

  /**
   * How long until the bucket is full again.
   *
   * @return the wait, zero if full
   */
  public Duration resetAfter() {
    return Duration.ofNanos(resetAfterNanos);
  }

  /**
   * {@link #resetAfter()} in nanoseconds.
   *
   * @return nanoseconds, at least 0
   */
  public long resetAfterNanos() {
    return resetAfterNanos;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Decision d
        && d.allowed == allowed
        && d.remaining == remaining
        && d.bindingIndex == bindingIndex
        && Objects.equals(d.binding, binding)
        && d.retryAfterNanos == retryAfterNanos
        && d.resetAfterNanos == resetAfterNanos
        && d.source == source
        && d.shadowed == shadowed;
  }

  @Override
  public int hashCode() {
    int h = Boolean.hashCode(allowed);
    h = 31 * h + Long.hashCode(remaining);
    h = 31 * h + Objects.hashCode(binding);
    h = 31 * h + bindingIndex;
    h = 31 * h + Long.hashCode(retryAfterNanos);
    h = 31 * h + Long.hashCode(resetAfterNanos);
    return 31 * (31 * h + source.hashCode()) + Boolean.hashCode(shadowed);
  }

  @Override
  public String toString() {
    return "Decision[" + (allowed ? "allowed" : "denied")
        + ", remaining=" + remaining
        + ", limit=" + limit() + (bindingIndex > 0 ? " (limit " + bindingIndex + ")" : "")
        + ", retryAfter=" + (retryAfterNanos == NEVER ? "never" : retryAfterNanos + "ns")
        + ", resetAfter=" + resetAfterNanos + "ns"
        + (source == Source.STORE ? "" : ", source=" + source)
        + (shadowed ? ", shadow: would refuse" : "") + "]";
  }
}
