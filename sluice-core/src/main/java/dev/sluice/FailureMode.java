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
   * Enforce the policy in memory on this node until the store answers again. Each node then
   * admits up to the full limit on its own, so across N nodes up to N times the limit.
   */
  LOCAL
}
