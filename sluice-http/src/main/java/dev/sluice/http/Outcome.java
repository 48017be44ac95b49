package dev.sluice.http;

import dev.sluice.Decision;
import dev.sluice.RateLimiter;
import dev.sluice.Reservation;

/**
 * One rule applied to one request: its limiter, the hashed key, the cost, and the decision. The
 * key material is kept only for a rule over plans (whose function assigns plans by material),
 * and only as long as the request needs it.
 */
final class Outcome {
  final Rule rule;
  final RateLimiter<String> limiter;
  final int index;
  final String key;
  final String material;
  final long cost;
  Decision decision;
  /**
   * For a queueing rule ({@link Rule#maxWait()}) that reserved: the granted reservation (to
   * cancel), and the wait from its making to its due instant; null and 0 otherwise.
   */
  Reservation reservation;
  long waitNanos;

  Outcome(Rule rule, RateLimiter<String> limiter, int index, String key, String material,
      long cost) {
    this.rule = rule;
    this.limiter = limiter;
    this.index = index;
    this.key = key;
    this.material = rule.plans() != null ? material : null;
    this.cost = cost;
  }

  /** Whether this outcome's permits are taken now (to give back if the request does not keep them). */
  boolean holdsPermits() {
    Decision d = decision;
    return d != null && d.allowed() && !d.wouldRefuse() && d.source() == Decision.Source.STORE;
  }
}
