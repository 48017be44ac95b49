package dev.sluice.http;

import dev.sluice.Decision;
import dev.sluice.RateLimiter;

/** One rule applied to one request: its limiter, the hashed key, the cost, and the decision. */
final class Outcome {
  final Rule rule;
  final RateLimiter<String> limiter;
  final int index;
  final String key;
  final long cost;
  Decision decision;

  Outcome(Rule rule, RateLimiter<String> limiter, int index, String key, long cost) {
    this.rule = rule;
    this.limiter = limiter;
    this.index = index;
    this.key = key;
    this.cost = cost;
  }
}
