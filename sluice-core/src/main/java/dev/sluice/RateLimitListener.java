package dev.sluice;

/**
 * Receives what a {@link RateLimiter} does, for metrics and logs. Register one with
 * {@link RateLimiter.Builder#listener}; with none registered, the limiter does no extra work
 * (not even a clock read for latency). Counts that a store keeps anyway (keys held, evictions)
 * are read on demand instead: {@link RateLimiter#size()}, {@link RateLimiter#evictions()}.
 *
 * <p>Methods are called on the deciding thread, synchronously, so they must be fast and must not
 * block; an exception thrown from one is swallowed so that it cannot change a decision. Never
 * keyed: the key is not passed, so a listener cannot create a metric per key by mistake.
 */
public interface RateLimitListener {

  /**
   * A decision was made (by the store, or by the failure mode: see {@code source}).
   *
   * @param limiter the limiter's name
   * @param allowed whether the request was admitted
   * @param source who decided
   * @param latencyNanos time spent deciding, in nanoseconds
   */
  default void onDecision(String limiter, boolean allowed, Decision.Source source, long latencyNanos) {}

  /**
   * A decision was made by a limiter in shadow mode ({@link RateLimiter.Builder#shadow}), instead
   * of {@link #onDecision}: {@code allowed} is what enforcing would have answered; the request
   * was let through either way.
   *
   * @param limiter the limiter's name
   * @param allowed whether enforcing would have admitted the request
   * @param source who decided
   * @param latencyNanos time spent deciding, in nanoseconds
   */
  default void onShadowDecision(
      String limiter, boolean allowed, Decision.Source source, long latencyNanos) {}

  /**
   * An admitted request left its key at or below the limiter's near-limit fraction of the
   * binding limit's capacity ({@link RateLimiter.Builder#nearLimit}): the key is approaching its
   * limit. Called after {@link #onDecision} (or {@link #onShadowDecision}) for the same request.
   *
   * @param limiter the limiter's name
   * @param remaining permits left in the binding limit
   * @param capacity that limit's capacity
   */
  default void onNearLimit(String limiter, long remaining, long capacity) {}

  /**
   * The store could not decide; the failure mode will.
   *
   * @param limiter the limiter's name
   * @param error what the store reported
   */
  default void onBackendError(String limiter, Throwable error) {}
}
