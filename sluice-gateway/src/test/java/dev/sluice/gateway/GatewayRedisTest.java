package dev.sluice.gateway;

import dev.sluice.redis.RedisServer;
import dev.sluice.redis.RedisStore;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The same scenarios on a real redis-server that this class starts: the application's
 * {@code RedisStore.Factory} bean is the store. Redis's clock runs, but the limits refill once in
 * minutes, so the counts stay exact; the times in headers may be a few seconds short.
 */
@SpringBootTest(classes = {GatewayTestApp.class, GatewayRedisTest.Store.class},
    webEnvironment = WebEnvironment.RANDOM_PORT)
@DirtiesContext
class GatewayRedisTest extends GatewayScenarios {

  static final Backend BACKEND = Backend.start();
  /** Killed when the JVM exits (RedisServer's reaper), after the context has closed. */
  static final RedisServer REDIS = RedisServer.start();

  /** The store: the auto-configuration takes a RateStoreFactory bean. */
  @TestConfiguration
  static class Store {
    @Bean
    RedisStore.Factory redisStore(Environment env) {
      return RedisStore.factory(env.getRequiredProperty("redis.uri"))
          .deadline(Duration.ofSeconds(5));
    }
  }

  @DynamicPropertySource
  static void uris(DynamicPropertyRegistry registry) {
    registry.add("backend.uri", BACKEND::uri);
    registry.add("redis.uri", REDIS::uri);
  }

  @AfterAll
  static void stopBackend() {
    BACKEND.close();
  }

  @Override
  Backend backend() {
    return BACKEND;
  }

  @Override
  long slackSeconds() {
    return 60;
  }
}
