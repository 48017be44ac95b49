package dev.sluice.benchmarks;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.sluice.Decision;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.internal.Engine;
import dev.sluice.internal.Holder;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * The alternative in-memory store design, for comparison only: the same holders and the same
 * bucket engine as {@link dev.sluice.InMemoryStore}, kept in a Caffeine cache instead of a
 * hand-written map. The cap is Caffeine's {@code maximumSize} (W-TinyLFU decides who goes, so a
 * throttled key can be evicted in favour of new ones); lossless expiry is
 * {@code expireAfterAccess(fillTime)}, which is exact because an admitted request never leaves the
 * empty instant later than its own time, so a bucket untouched for the fill time is full. Caffeine
 * reads the ticker on every access for that expiry, so a decision reads it twice.
 *
 * <p>It uses {@code dev.sluice.internal}, which {@code module-info} does not export: on the class
 * path (how this module runs) those classes are public and usable. Acceptable for an internal
 * comparison, never for users.
 *
 * <p>A design study for one policy: it serves the policy it was created for, and refuses a call
 * naming another ({@link UnsupportedOperationException}) rather than decide it under the wrong
 * limits; the benchmarks never change it.
 *
 * @param <K> the key type
 */
public final class CaffeineStore<K> implements RateStore<K> {

  private final Engine engine;
  private final Ticker ticker;
  private final Cache<K, Holder> cache;
  private final LongAdder evictions = new LongAdder();

  private CaffeineStore(Policy policy, Ticker ticker, long maxKeys) {
    this.engine = Engine.of(policy);
    this.ticker = ticker;
    Duration fill = Duration.ZERO;
    for (var limit : policy.limits()) {
      Duration f = limit.fillTime();
      fill = f.compareTo(fill) > 0 ? f : fill;
    }
    this.cache = Caffeine.newBuilder()
        .maximumSize(maxKeys)
        .expireAfterAccess(fill)
        .ticker(ticker::read)
        .evictionListener((K key, Holder h, RemovalCause cause) -> {
          if (cause == RemovalCause.SIZE) {
            evictions.increment();
          }
        })
        .build();
  }

  /**
   * A factory for Caffeine-backed stores holding at most {@code maxKeys} keys.
   *
   * @param maxKeys the cap, at least 1
   * @return a factory
   */
  public static RateStoreFactory factory(long maxKeys) {
    if (maxKeys < 1) {
      throw new IllegalArgumentException("maxKeys (" + maxKeys + ") must be at least 1");
    }
    return new RateStoreFactory() {
      @Override
      public <T> RateStore<T> create(String name, Policy policy, Ticker ticker) {
        return new CaffeineStore<>(
            Objects.requireNonNull(policy, "policy"), Objects.requireNonNull(ticker, "ticker"),
            maxKeys);
      }
    };
  }

  private Holder holder(K key, long now) {
    Holder h = cache.getIfPresent(key);
    if (h == null) {
      Holder fresh = engine.newHolder(now);
      h = cache.asMap().putIfAbsent(key, fresh);
      if (h == null) {
        h = fresh;
      }
    }
    return h;
  }

  @Override
  public boolean tryAcquire(K key, Policy policy, long permits) {
    Objects.requireNonNull(key, "key");
    serves(policy);
    Engine.checkPermits(permits);
    long now = ticker.read();
    return engine.take(holder(key, now), now, permits, false) == Engine.TAKEN;
  }

  @Override
  public Decision decide(K key, Policy policy, long permits) {
    Objects.requireNonNull(key, "key");
    serves(policy);
    Engine.checkPermits(permits);
    long now = ticker.read();
    return engine.take(holder(key, now), now, permits, true);
  }

  @Override
  public long availablePermits(K key, Policy policy) {
    Objects.requireNonNull(key, "key");
    serves(policy);
    long now = ticker.read();
    Holder h = cache.getIfPresent(key);
    return engine.available(h == null ? engine.newHolder(now) : h, now);
  }

  /** Refuses a policy other than the one this store was created for. */
  private void serves(Policy policy) {
    if (!engine.serves(policy)) {
      throw new UnsupportedOperationException(
          "CaffeineStore serves " + engine.policy() + " only, got " + policy);
    }
  }

  @Override
  public long size() {
    return cache.estimatedSize();
  }

  /** Buckets dropped by the size cap (expiry of full buckets is lossless and not counted). */
  @Override
  public long evictions() {
    return evictions.sum();
  }

  /**
   * Runs Caffeine's pending maintenance (evictions are otherwise amortized over later calls).
   */
  void cleanUp() {
    cache.cleanUp();
  }

  @Override
  public void close() {
    cache.invalidateAll();
  }
}
