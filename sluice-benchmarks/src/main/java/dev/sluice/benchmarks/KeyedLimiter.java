package dev.sluice.benchmarks;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.sluice.InMemoryStore;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * A limiter per key, as each library would be used for it, behind one interface so that the
 * keyed benchmarks and the memory mains compare them in the same run. Each benchmark fork uses
 * one implementation, so the interface call is monomorphic and inlined.
 */
abstract class KeyedLimiter {

  /** Implementation names, for {@code @Param} and the mains' arguments. */
  static final String SLUICE = "sluice";
  static final String SLUICE_CAFFEINE = "sluice-caffeine-store";
  static final String BUCKET4J_CHM = "bucket4j-chm";
  static final String BUCKET4J_CAFFEINE = "bucket4j-caffeine";
  static final String GUAVA_CHM = "guava-chm";

  /** The cap given to every bounded implementation (Sluice's store and the Caffeine ones). */
  static final long MAX_KEYS = 1_000_000;

  /** Takes one permit from {@code key}'s limiter, creating it on first use. */
  abstract boolean tryAcquire(String key);

  /** Keys held now. */
  abstract long size();

  /** Keys evicted by a cap so far, or -1 if the implementation has no cap. */
  abstract long evictions();

  /** Runs pending maintenance (Caffeine's amortized evictions), if any. */
  void cleanUp() {}

  /** The object whose reachable graph is everything this limiter retains (for JOL). */
  abstract Object root();

  static KeyedLimiter create(String name, Rate rate) {
    switch (name) {
      case SLUICE:
        return sluice(rate, InMemoryStore.factory().maxKeys(MAX_KEYS));
      case SLUICE_CAFFEINE:
        return sluice(rate, CaffeineStore.factory(MAX_KEYS));
      case BUCKET4J_CHM:
        return bucket4jMap(rate);
      case BUCKET4J_CAFFEINE:
        return bucket4jCaffeine(rate);
      case GUAVA_CHM:
        return guavaMap(rate);
      default:
        throw new IllegalArgumentException("unknown implementation: " + name);
    }
  }

  static Limit sluiceLimit(Rate rate) {
    return Limit.of(rate.permits(), rate.period()).withCapacity(rate.capacity());
  }

  static Bandwidth bucket4jLimit(Rate rate) {
    return Bandwidth.builder().capacity(rate.capacity()).refillGreedy(rate.permits(), rate.period())
        .build();
  }

  static KeyedLimiter sluice(Rate rate, RateStoreFactory store) {
    RateStore<?>[] created = new RateStore<?>[1];
    RateStoreFactory capturing = new RateStoreFactory() {
      @Override
      public <K> RateStore<K> create(String name, Policy policy, Ticker ticker) {
        RateStore<K> s = store.create(name, policy, ticker);
        created[0] = s;
        return s;
      }
    };
    RateLimiter<String> limiter = RateLimiter.builder(sluiceLimit(rate)).store(capturing).build();
    RateStore<?> built = created[0];
    return new KeyedLimiter() {
      @Override
      boolean tryAcquire(String key) {
        return limiter.tryAcquire(key);
      }

      @Override
      long size() {
        return limiter.size();
      }

      @Override
      long evictions() {
        return limiter.evictions();
      }

      @Override
      void cleanUp() {
        if (built instanceof CaffeineStore<?> caffeine) {
          caffeine.cleanUp();
        } else if (built instanceof InMemoryStore<?> inMemory) {
          inMemory.cleanUp();
        }
      }

      @Override
      Object root() {
        return limiter;
      }
    };
  }

  /** Bucket4j's local buckets in a map; one shared {@link Bandwidth}, as a careful user would. */
  static KeyedLimiter bucket4jMap(Rate rate) {
    Bandwidth bandwidth = bucket4jLimit(rate);
    Function<String, Bucket> create = k -> Bucket.builder().addLimit(bandwidth).build();
    ConcurrentHashMap<String, Bucket> map = new ConcurrentHashMap<>();
    return new KeyedLimiter() {
      @Override
      boolean tryAcquire(String key) {
        return map.computeIfAbsent(key, create).tryConsume(1);
      }

      @Override
      long size() {
        return map.size();
      }

      @Override
      long evictions() {
        return -1;
      }

      @Override
      Object root() {
        return map;
      }
    };
  }

  /** Bucket4j's local buckets in a bounded Caffeine cache, the usual recipe for bounded memory.
   * Evictions are counted by a listener rather than {@code recordStats()}, which would add a
   * counter to every hit. */
  static KeyedLimiter bucket4jCaffeine(Rate rate) {
    Bandwidth bandwidth = bucket4jLimit(rate);
    Function<String, Bucket> create = k -> Bucket.builder().addLimit(bandwidth).build();
    LongAdder evicted = new LongAdder();
    Cache<String, Bucket> cache = Caffeine.newBuilder()
        .maximumSize(MAX_KEYS)
        .expireAfterAccess(Duration.ofHours(1))
        .evictionListener((String k, Bucket b, RemovalCause cause) -> {
          if (cause == RemovalCause.SIZE) {
            evicted.increment();
          }
        })
        .build();
    return new KeyedLimiter() {
      @Override
      boolean tryAcquire(String key) {
        return cache.get(key, create).tryConsume(1);
      }

      @Override
      long size() {
        return cache.estimatedSize();
      }

      @Override
      long evictions() {
        return evicted.sum();
      }

      @Override
      void cleanUp() {
        cache.cleanUp();
      }

      @Override
      Object root() {
        return cache;
      }
    };
  }

  /** Guava's limiters in a map (Guava has no burst setting: it holds one second's worth). */
  static KeyedLimiter guavaMap(Rate rate) {
    double perSecond = rate.guavaPerSecond();
    Function<String, com.google.common.util.concurrent.RateLimiter> create =
        k -> com.google.common.util.concurrent.RateLimiter.create(perSecond);
    ConcurrentHashMap<String, com.google.common.util.concurrent.RateLimiter> map =
        new ConcurrentHashMap<>();
    return new KeyedLimiter() {
      @Override
      boolean tryAcquire(String key) {
        return map.computeIfAbsent(key, create).tryAcquire();
      }

      @Override
      long size() {
        return map.size();
      }

      @Override
      long evictions() {
        return -1;
      }

      @Override
      Object root() {
        return map;
      }
    };
  }
}
