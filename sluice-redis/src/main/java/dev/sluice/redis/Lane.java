package dev.sluice.redis;

import dev.sluice.Policy;

/**
 * What a store keeps for one policy it decides under: the policy compiled for the script, the
 * Redis keys of its buckets (which carry the policy's fingerprint), its own deny cache (a refusal
 * under one policy says nothing about another), its own leases (if leasing is on) and its own batcher (one command carries the calls
 * of one policy: the script's head of arguments is the policy's).
 *
 * @param <K> the key type
 */
final class Lane<K> {

  final Policy policy;
  final BucketMath math;
  final RedisKeys keys;
  /** Null when the factory turned the deny cache off. */
  final DenyCache<K> denyCache;
  final Batcher batcher;
  /** This node's leases of hot keys under this policy; null when the factory has no leasing. */
  Leases<K> leases;
  /**
   * The store's other lanes, the most recent first (at most {@value #MAX_OTHERS}): where a key's
   * state may be when its bucket under this policy is missing, and the script looks.
   */
  volatile Lane<?>[] others = new Lane<?>[0];

  /** The lane that replaced this one ({@code RedisStore.policyReplaced}), or null. */
  volatile Lane<K> replacedBy;

  /** The most other policies a call looks in for a key's state. */
  static final int MAX_OTHERS = 8;

  Lane(Policy policy, BucketMath math, RedisKeys keys, DenyCache<K> denyCache, Batcher batcher) {
    this.policy = policy;
    this.math = math;
    this.keys = keys;
    this.denyCache = denyCache;
    this.batcher = batcher;
  }
}
