package dev.sluice.spring.boot;

import io.lettuce.core.AbstractRedisClient;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/** The application's Spring Data Redis Lettuce client; loaded only when Spring Data Redis is. */
final class SpringDataRedis {

  private SpringDataRedis() {}

  static AbstractRedisClient client(ListableBeanFactory beans) {
    LettuceConnectionFactory f = beans.getBeanProvider(LettuceConnectionFactory.class)
        .getIfUnique();
    if (f == null) {
      return null;
    }
    if (!f.isRunning()) {
      f.start();
    }
    return f.getNativeClient();
  }
}
