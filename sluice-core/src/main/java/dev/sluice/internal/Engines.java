package dev.sluice.internal;

import dev.sluice.Policy;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Engines compiled once per policy and shared: a store serving several policies (plans, a policy
 * changed at runtime) looks one up only when a key gets a new bucket or changes policy, never on
 * a decision of a key whose bucket already serves its policy. Equal policies share one engine.
 * Bounded: past {@value #MAX} distinct policies, engines are compiled without being kept (a
 * policy per key still works, at the cost of compiling it per new bucket).
 */
public final class Engines {

  /** The most engines kept. */
  static final int MAX = 4096;

  private final ConcurrentHashMap<Policy, Engine> byPolicy = new ConcurrentHashMap<>();

  /**
   * The engine for {@code policy}.
   *
   * @param policy the policy, not null
   * @return its engine, shared by equal policies while the cache has room
   */
  public Engine of(Policy policy) {
    Engine e = byPolicy.get(policy);
    if (e != null) {
      return e;
    }
    e = Engine.of(policy);
    if (byPolicy.size() >= MAX) {
      return e;
    }
    Engine raced = byPolicy.putIfAbsent(policy, e);
    return raced != null ? raced : e;
  }
}
