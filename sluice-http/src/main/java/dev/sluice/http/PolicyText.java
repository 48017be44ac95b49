package dev.sluice.http;

import dev.sluice.Policy;

/**
 * The constant parts of one rule's IETF headers under one policy, built once per (rule, policy):
 * its {@code RateLimit-Policy} items and the head of its {@code RateLimit} item for each limit.
 * A rule whose policy can change (plans, a limiter updated live) keeps a few of these, found by
 * the policy's identity ({@link Rule#text}).
 */
final class PolicyText {

  final Policy policy;
  final String ietfPolicy;
  private final String[] stateItemPrefix;

  PolicyText(String rule, Policy policy) {
    this.policy = policy;
    this.ietfPolicy = Headers.policyItems(rule, policy);
    this.stateItemPrefix = new String[policy.limits().size()];
    for (int i = 0; i < stateItemPrefix.length; i++) {
      stateItemPrefix[i] = Headers.stateItemPrefix(rule, policy, i);
    }
  }

  /** {@code "<name>";r=} for limit {@code i}, for the {@code RateLimit} field. */
  String stateItemPrefix(int i) {
    return stateItemPrefix[i];
  }

  /**
   * Whether a decision bound by limit {@code index} of capacity {@code capacity} can have been
   * made under this policy (a change landing between the decision and the headers may make it
   * not).
   */
  boolean describes(int index, long capacity) {
    return index >= 0 && index < stateItemPrefix.length
        && policy.limits().get(index).capacity() == capacity;
  }
}
