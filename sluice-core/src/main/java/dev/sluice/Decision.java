package dev.sluice;

import java.time.Duration;
import java.util.Optional;

/**
 * The outcome of one request for permits: what the HTTP layer turns into a status and headers.
 *
 * <ul>
 *   <li>{@link #allowed()}: whether the permits were taken;</li>
 *   <li>{@link #remaining()}: whole permits left after this decision (for a several-limit policy,
 *       the fewest left in any limit);</li>
 *   <li>{@link #limit()}: the capacity of the limit that {@code remaining} refers to;</li>
 *   <li>{@link #retryAfter()}: zero when allowed; when denied, the shortest wait after which a
 *       request of the same size can succeed (if nothing else takes permits first); empty when
 *       it can never succeed, because it asks for more than the capacity;</li>
 *   <li>{@link #resetAfter()}: how long until the bucket is full again.</li>
 * </ul>
 *
 * <p>Waits are rounded up to whole nanoseconds, so a request made exactly {@code retryAfter}
 * later succeeds. When the store could not decide, the limiter's {@link FailureMode} did, and
 * {@link #source()} says which. Stores outside this module build decisions with the static factories.
 */
public final class Decision {

  /** Who made a decision: the store, or the limiter's {@link FailureMode} when the store could not. */
  public enum Source {
    /** The store applied the bucket function: the normal case. */
    STORE,
    /** The store failed and {@link FailureMode#OPEN} admitted the request without counting it. */
    FAILURE_OPEN,
    /** The store failed and {@link FailureMode#CLOSED} refused the request (HTTP 503). */
    FAILURE_CLOSED,
    /** The store failed and {@link FailureMode#LOCAL} decided on this node's in-memory buckets. */
    LOCAL_FALLBACK
  }

  private static final long NEVER = -1L;
  private static final Decision FAILED_OPEN = new Decision(true, 0, 1, 0, 0, Source.FAILURE_OPEN);
  private static final Decision FAILED_CLOSED = new Decision(false, 0, 1, NEVER, 0, Source.FAILURE_CLOSED);

  private final boolean allowed;
  private final long remaining;
  private final long limit;
  private final long retryAfterNanos;
  private final long resetAfterNanos;
  private final Source source;

  private Decision(
      boolean allowed, long remaining, long limit, long retryAfterNanos, long resetAfterNanos,
      Source source) {
    this.allowed = allowed;
    this.remaining = remaining;
    this.limit = limit;
    this.retryAfterNanos = retryAfterNanos;
    this.resetAfterNanos = resetAfterNanos;
    this.source = source;
  }

  /**
   * The answer of {@link FailureMode#OPEN}: admitted, with no count behind it (remaining 0,
   * limit 1, no waits); {@link #source()} says so, and the HTTP layer sends no rate-limit headers.
   *
   * @return the shared fail-open decision
   */
  public static Decision failedOpen() {
    return FAILED_OPEN;
  }

  /**
   * The answer of {@link FailureMode#CLOSED}: refused because the store is unavailable, not
   * because of the client; {@link #retryAfter()} is empty. The HTTP layer answers 503.
   *
   * @return the shared fail-closed decision
   */
  public static Decision failedClosed() {
    return FAILED_CLOSED;
  }

  /**
   * This decision marked as made by {@link FailureMode#LOCAL} on in-memory buckets.
   *
   * @return a copy with {@link Source#LOCAL_FALLBACK}
   */
  public Decision asLocalFallback() {
    return new Decision(allowed, remaining, limit, retryAfterNanos, resetAfterNanos,
        Source.LOCAL_FALLBACK);
  }

  /**
   * Who made this decision: {@link Source#STORE} normally.
   *
   * @return the source
   */
  public Source source() {
    return source;
  }

  /**
   * An admitted request.
   *
   * @param remaining whole permits left, at least 0
   * @param limit the capacity {@code remaining} refers to, at least 1
   * @param resetAfterNanos nanoseconds until full, at least 0
   * @return the decision
   */
  public static Decision allowed(long remaining, long limit, long resetAfterNanos) {
    check(remaining, limit, resetAfterNanos);
    return new Decision(true, remaining, limit, 0L, resetAfterNanos, Source.STORE);
  }

  /**
   * A refused request that can succeed after waiting.
   *
   * @param remaining whole permits available now, at least 0
   * @param limit the capacity {@code remaining} refers to, at least 1
   * @param retryAfterNanos nanoseconds until a request of the same size can succeed, at least 1
   * @param resetAfterNanos nanoseconds until full, at least 0
   * @return the decision
   */
  public static Decision denied(
      long remaining, long limit, long retryAfterNanos, long resetAfterNanos) {
    check(remaining, limit, resetAfterNanos);
    if (retryAfterNanos < 1) {
      throw new IllegalArgumentException(
          "retryAfterNanos (" + retryAfterNanos + ") must be at least 1 for a denial");
    }
    return new Decision(false, remaining, limit, retryAfterNanos, resetAfterNanos, Source.STORE);
  }

  /**
   * A refused request that can never succeed: it asks for more permits than the capacity.
   *
   * @param remaining whole permits available now, at least 0
   * @param limit the capacity the request exceeds, at least 1
   * @param resetAfterNanos nanoseconds until full, at least 0
   * @return the decision
   */
  public static Decision exceedsCapacity(long remaining, long limit, long resetAfterNanos) {
    check(remaining, limit, resetAfterNanos);
    return new Decision(false, remaining, limit, NEVER, resetAfterNanos, Source.STORE);
  }

  private static void check(long remaining, long limit, long resetAfterNanos) {
    if (remaining < 0) {
      throw new IllegalArgumentException("remaining (" + remaining + ") must be at least 0");
    }
    if (limit < 1) {
      throw new IllegalArgumentException("limit (" + limit + ") must be at least 1");
    }
    if (resetAfterNanos < 0) {
      throw new IllegalArgumentException(
          "resetAfterNanos (" + resetAfterNanos + ") must be at least 0");
    }
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
   * The capacity of the limit that {@link #remaining()} refers to.
   *
   * @return the capacity
   */
  public long limit() {
    return limit;
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
        && d.limit == limit
        && d.retryAfterNanos == retryAfterNanos
        && d.resetAfterNanos == resetAfterNanos
        && d.source == source;
  }

  @Override
  public int hashCode() {
    int h = Boolean.hashCode(allowed);
    h = 31 * h + Long.hashCode(remaining);
    h = 31 * h + Long.hashCode(limit);
    h = 31 * h + Long.hashCode(retryAfterNanos);
    h = 31 * h + Long.hashCode(resetAfterNanos);
    return 31 * h + source.hashCode();
  }

  @Override
  public String toString() {
    return "Decision[" + (allowed ? "allowed" : "denied")
        + ", remaining=" + remaining
        + ", limit=" + limit
        + ", retryAfter=" + (retryAfterNanos == NEVER ? "never" : retryAfterNanos + "ns")
        + ", resetAfter=" + resetAfterNanos + "ns"
        + (source == Source.STORE ? "" : ", source=" + source) + "]";
  }
}
