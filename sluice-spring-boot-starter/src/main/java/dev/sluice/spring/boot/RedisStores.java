package dev.sluice.spring.boot;

import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.redis.RedisStore;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.cluster.RedisClusterClient;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.util.ClassUtils;

/**
 * The Redis store: from {@code sluice.redis.uri} (a client the starter makes and shuts down), or
 * else over the application's Spring Data Redis Lettuce client, which the starter opens one
 * connection on and never shuts down. Loaded only when {@code sluice.store} is {@code redis}.
 */
final class RedisStores {

  private static final String LETTUCE_FACTORY =
      "org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory";

  private RedisStores() {}

  static StoreChoice of(SluiceProperties p, ListableBeanFactory beans) {
    SluiceProperties.Redis r = p.redis();
    RedisStore.Factory f;
    String description;
    if (r.uri() != null && !r.uri().isBlank()) {
      try {
        f = RedisStore.factory(r.uri());
        description = "redis " + redact(r.uri());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("sluice.redis.uri must be a Redis URI (redis://host:port),"
            + " was \"" + redact(r.uri()) + "\": " + e.getMessage(), e);
      }
    } else {
      AbstractRedisClient client = applicationClient(beans);
      if (client == null) {
        throw new IllegalArgumentException("sluice.redis.uri must be set when sluice.store is redis"
            + " and the application has no Spring Data Redis Lettuce connection, was missing");
      }
      if (client instanceof RedisClusterClient cluster) {
        f = RedisStore.factory(cluster);
      } else {
        f = RedisStore.factory((RedisClient) client);
      }
      description = "redis (the application's Spring Data Redis client)";
    }
    try {
      f = f.deadline(r.deadline()).namespace(r.namespace());
      if (r.leasing() != null) {
        f = f.leasing(r.leasing());
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("sluice.redis: " + e.getMessage(), e);
    }
    // closing the factory closes its connection, and the client only if the factory made it
    Watched watched = new Watched(f);
    return new StoreChoice(watched, description, f::close, watched::breakers);
  }

  /** The factory, keeping the stores it made to read their circuit breakers. */
  static final class Watched implements RateStoreFactory {

    private final RedisStore.Factory factory;
    private final Map<String, RedisStore<?>> stores = new ConcurrentHashMap<>();

    Watched(RedisStore.Factory factory) {
      this.factory = factory;
    }

    @Override
    public <K> RateStore<K> create(String name, Policy policy, Ticker ticker) {
      RedisStore<K> store = factory.create(name, policy, ticker);
      stores.put(name, store);
      return store;
    }

    /** Each store's breaker state ({@code closed}, {@code open}, {@code half-open}), by name. */
    Map<String, String> breakers() {
      Map<String, String> out = new TreeMap<>();
      stores.forEach((name, store) -> out.put(name,
          store.breakerState().name().toLowerCase(Locale.ROOT).replace('_', '-')));
      return out;
    }

    @Override
    public String toString() {
      return factory.toString();
    }
  }

  private static AbstractRedisClient applicationClient(ListableBeanFactory beans) {
    ClassLoader cl = RedisStores.class.getClassLoader();
    if (!ClassUtils.isPresent(LETTUCE_FACTORY, cl)) {
      return null;
    }
    return SpringDataRedis.client(beans);
  }

  static String redact(String uri) {
    return Settings.redact(uri);
  }
}
