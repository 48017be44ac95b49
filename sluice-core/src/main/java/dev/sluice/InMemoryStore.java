package dev.sluice;

import dev.sluice.internal.Engine;
import dev.sluice.internal.Holder;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The default store: buckets in this JVM, one tiny holder per key (a single {@code long} for a
 * one-limit policy with a whole-nanosecond interval) in a {@link ConcurrentHashMap}. Buckets are
 * created lazily on a key's first request; keys are independent; there is no global lock. A
 * decision reads the ticker once, looks the holder up, and applies the bucket function with one
 * compare-and-set.
 *
 * @param <K> the key type
 */
public final class InMemoryStore<K> implements RateStore<K> {

  private final Engine engine;
  private final Ticker ticker;
  private final ConcurrentHashMap<K, Holder> buckets;

  private InMemoryStore(Policy policy, Ticker ticker, int initialCapacity) {
    this.engine = Engine.of(policy);
    this.ticker = ticker;
    this.buckets = new ConcurrentHashMap<>(initialCapacity);
  }

  /**
   * The factory for in-memory stores, with default options.
   *
   * @return a factory
   */
  public static Factory factory() {
    return new Factory(16);
  }

  private Holder holder(K key, long now) {
    Holder h = buckets.get(key);
    if (h == null) {
      Holder fresh = engine.newHolder(now);
      h = buckets.putIfAbsent(key, fresh);
      if (h == null) {
        h = fresh;
      }
    }
    return h;
  }

  @Override
  public boolean tryAcquire(K key, long permits) {
    Objects.requireNonNull(key, "key");
    Engine.checkPermits(permits);
    long now = ticker.read();
    return engine.tryAcquire(holder(key, now), now, permits);
  }

  @Override
  public Decision decide(K key, long permits) {
    Objects.requireNonNull(key, "key");
    Engine.checkPermits(permits);
    long now = ticker.read();
    return engine.decide(holder(key, now), now, permits);
  }

  @Override
  public long availablePermits(K key) {
    Objects.requireNonNull(key, "key");
    long now = ticker.read();
    Holder h = buckets.get(key);
    return engine.available(h == null ? engine.newHolder(now) : h, now);
  }

  @Override
  public long size() {
    return buckets.size();
  }

  @Override
  public void close() {
    buckets.clear();
  }

  /** Options for in-memory stores; a {@link RateStoreFactory}. Immutable. */
  public static final class Factory implements RateStoreFactory {

    private final int initialCapacity;

    private Factory(int initialCapacity) {
      this.initialCapacity = initialCapacity;
    }

    /**
     * Pre-sizes the map for about this many keys.
     *
     * @param keys expected keys, at least 0
     * @return a new factory
     */
    public Factory initialCapacity(int keys) {
      if (keys < 0) {
        throw new IllegalArgumentException("initialCapacity (" + keys + ") must be at least 0");
      }
      return new Factory(keys);
    }

    @Override
    public <K> RateStore<K> create(String name, Policy policy, Ticker ticker) {
      return new InMemoryStore<>(
          Objects.requireNonNull(policy, "policy"), Objects.requireNonNull(ticker, "ticker"),
          initialCapacity);
    }
  }
}
