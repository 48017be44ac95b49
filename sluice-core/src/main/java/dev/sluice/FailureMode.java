package dev.sluice;

/**
 * What a {@link RateLimiter} answers when its store cannot (the backend is down, slow past its
 * deadline, or the limiter is closed). Every such answer is marked with its
 * {@link Decision.Source}, so it is counted and never mistaken for a real decision.
 */
public enum FailureMode {

  /**
   * Admit the request. Availability over enforcement: during the outage nothing is limited. The
   * decision carries no remaining count or wait, so no misleading headers are sent.
   */
  OPEN,

  /**
   * Refuse the request as "service unavailable" (HTTP 503, not 429: the client did nothing
   * wrong). Enforcement over availability.
   */
  CLOSED,

  /**
   * Enforce this node's share of the policy in memory until the store answers again: {@code 1/N}
   * of each limit's capacity (at least one permit) and rate, where {@code N} is the store's
   * count of live nodes ({@link dev.sluice.spi.RateStore#liveNodes()}; 1 for a store that does
   * not count, which then enforces the full policy on each node). Across the fleet's local
   * buckets, a window {@code W} admits at most {@code N * max(1, C / N) + W * rate}.
   */
  LOCAL
}
