package dev.sluice.benchmarks;

import dev.sluice.Decision;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.internal.Engine;
import dev.sluice.internal.Holder;
import dev.sluice.spi.RateStore;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An experiment, not a store to ship: the design of the shipped in-memory store (holders in a
 * {@link ConcurrentHashMap}, the same engine), with the ticker read either before the map lookup
 * (as shipped) or after it. {@code System.nanoTime()} on x86 Linux is an ordered {@code rdtsc}
 * (an {@code lfence} first), so where it sits relative to the cache misses of the lookup may
 * change what overlaps with what. Uses the non-exported {@code dev.sluice.internal} classes from
 * the class path; see {@link CaffeineStore}. Serves the one policy it was created for and refuses
 * a call naming another ({@link UnsupportedOperationException}).
 *
 * @param <K> the key type
 */
final class ClockOrderStore<K> implements RateStore<K> {

  private final Engine engine;
  private final Ticker ticker;
  private final boolean clockFirst;
  private final ConcurrentHashMap<K, Holder> buckets = new ConcurrentHashMap<>();

  ClockOrderStore(Policy policy, Ticker ticker, boolean clockFirst) {
    this.engine = Engine.of(policy);
    this.ticker = ticker;
    this.clockFirst = clockFirst;
  }

  private Holder create(K key, long now) {
    Holder fresh = engine.newHolder(now);
    Holder h = buckets.putIfAbsent(key, fresh);
    return h == null ? fresh : h;
  }

  @Override
  public boolean tryAcquire(K key, Policy policy, long permits) {
    Objects.requireNonNull(key, "key");
    serves(policy);
    Engine.checkPermits(permits);
    if (clockFirst) {
      long now = ticker.read();
      Holder h = buckets.get(key);
      return engine.take(h == null ? create(key, now) : h, now, permits, false) == Engine.TAKEN;
    }
    Holder h = buckets.get(key);
    long now = ticker.read();
    return engine.take(h == null ? create(key, now) : h, now, permits, false) == Engine.TAKEN;
  }

  @Override
  public Decision decide(K key, Policy policy, long permits) {
    Objects.requireNonNull(key, "key");
    serves(policy);
    Engine.checkPermits(permits);
    Holder h = clockFirst ? null : buckets.get(key);
    long now = ticker.read();
    if (h == null) {
      h = buckets.get(key);
      if (h == null) {
        h = create(key, now);
      }
    }
    return engine.take(h, now, permits, true);
  }

  @Override
  public long availablePermits(K key, Policy policy) {
    serves(policy);
    long now = ticker.read();
    Holder h = buckets.get(Objects.requireNonNull(key, "key"));
    return engine.available(h == null ? engine.newHolder(now) : h, now);
  }

  /** Refuses a policy other than the one this store was created for. */
  private void serves(Policy policy) {
    if (!engine.serves(policy)) {
      throw new UnsupportedOperationException(
          "ClockOrderStore serves " + engine.policy() + " only, got " + policy);
    }
  }

  @Override
  public long size() {
    return buckets.size();
  }

  @Override
  public void close() {
    buckets.clear();
  }
}

