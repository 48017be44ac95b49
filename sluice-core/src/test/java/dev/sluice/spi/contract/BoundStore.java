package dev.sluice.spi.contract;

import dev.sluice.Decision;
import dev.sluice.Policy;
import dev.sluice.spi.RateStore;
import java.util.concurrent.CompletionStage;

/**
 * A store seen through one policy: every call carries it, so contract cases read as they did
 * before the policy travelled with each call. {@link #as} gives the same store under another
 * policy (a plan, a changed limit).
 */
public final class BoundStore {

  private final RateStore<String> store;
  private final Policy policy;

  BoundStore(RateStore<String> store, Policy policy) {
    this.store = store;
    this.policy = policy;
  }

  /** The same store, calls carrying {@code other}. */
  public BoundStore as(Policy other) {
    return new BoundStore(store, other);
  }

  public RateStore<String> raw() {
    return store;
  }

  public Policy policy() {
    return policy;
  }

  public Decision decide(String key, long permits) {
    return store.decide(key, policy, permits);
  }

  public boolean tryAcquire(String key, long permits) {
    return store.tryAcquire(key, policy, permits);
  }

  public CompletionStage<Decision> decideAsync(String key, long permits) {
    return store.decideAsync(key, policy, permits);
  }

  public long availablePermits(String key) {
    return store.availablePermits(key, policy);
  }

  public void refund(String key, long permits, long heldNanos) {
    store.refund(key, policy, permits, heldNanos);
  }

  public long size() {
    return store.size();
  }

  public long evictions() {
    return store.evictions();
  }

  public void close() {
    store.close();
  }
}
