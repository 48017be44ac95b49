package dev.sluice.spring.boot;

import dev.sluice.InMemoryStore;
import dev.sluice.spi.RateStoreFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.util.ClassUtils;

/**
 * The store the properties ask for: its factory, what to call it, what to close at shutdown
 * (only what the starter made), and the circuit breakers' states of the stores it made, by
 * limiter name (empty for memory).
 */
record StoreChoice(RateStoreFactory factory, String description, AutoCloseable closer,
    java.util.function.Supplier<java.util.Map<String, String>> breakers) {

  StoreChoice(RateStoreFactory factory, String description, AutoCloseable closer) {
    this(factory, description, closer, java.util.Map::of);
  }

  static StoreChoice of(SluiceProperties p, ListableBeanFactory beans) {
    if (p.store() != SluiceProperties.Store.REDIS) {
      return new StoreChoice(InMemoryStore.factory(), "memory", () -> { });
    }
    if (!ClassUtils.isPresent("dev.sluice.redis.RedisStore", StoreChoice.class.getClassLoader())) {
      throw new IllegalArgumentException(
          "sluice.store must be memory unless sluice-redis is on the class path, was redis");
    }
    return RedisStores.of(p, beans);
  }
}
