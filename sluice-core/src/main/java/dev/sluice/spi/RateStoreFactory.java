package dev.sluice.spi;

import dev.sluice.Policy;
import dev.sluice.Ticker;

/**
 * Creates the {@link RateStore} for one limiter, given that limiter's policy and ticker.
 * {@link dev.sluice.InMemoryStore#factory()} is the default.
 */
public interface RateStoreFactory {

  /**
   * Creates a store.
   *
   * @param <K> the key type
   * @param name the limiter's name (for namespacing keys and for metrics)
   * @param policy the limiter's policy at creation (with plans, its first plan's), the one most
   *     calls are expected to carry; every call names its policy, which may differ
   * @param ticker the limiter's ticker; a remote store may use its own clock instead
   * @return a new store
   */
  <K> RateStore<K> create(String name, Policy policy, Ticker ticker);
}
