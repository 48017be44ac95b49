package dev.sluice.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.redis.RedisServer;
import dev.sluice.redis.RedisStore;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Redis dies under a fail-closed gateway: a key Redis refused stays refused, by the deny cache,
 * with its headers (exact: it cannot succeed anywhere before its Retry-After); a key Redis never
 * saw is refused too (fail-closed never becomes "allowed"), with no rate-limit headers, and
 * Gateway answers it with its status code, 429.
 */
@SpringBootTest(classes = {GatewayTestApp.class, GatewayRedisOutageTest.Store.class},
    webEnvironment = WebEnvironment.RANDOM_PORT,
    properties = "sluice.gateway.failure-mode=closed")
@DirtiesContext
class GatewayRedisOutageTest {

  static final Backend BACKEND = Backend.start();
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

  private final GatewayScenarios http = new GatewayScenarios() {
    @Override
    Backend backend() {
      return BACKEND;
    }

    @Override
    long slackSeconds() {
      return 60;
    }
  };

  @org.springframework.boot.test.web.server.LocalServerPort
  void port(int port) {
    http.port = port;
  }

  @Test
  void redisKilled_refusalsFromTheDenyCacheKeepHeaders_unknownKeysRefusedWithout() {
    String refusedBefore = GatewayScenarios.newClient();
    String unknown = GatewayScenarios.newClient();
    for (int i = 0; i < 5; i++) {
      assertThat(http.get("/limited/o", refusedBefore).statusCode()).isEqualTo(200);
    }
    assertThat(http.get("/limited/o", refusedBefore).statusCode()).isEqualTo(429);

    REDIS.kill();

    HttpResponse<String> cached = http.get("/limited/o", refusedBefore);
    assertThat(cached.statusCode()).isEqualTo(429);
    assertThat(GatewayScenarios.header(cached, "X-RateLimit-Limit"))
        .as("the deny cache answers with Redis's refusal").isEqualTo("5");
    http.assertSeconds(cached, "Retry-After", 1200);

    HttpResponse<String> failed = http.get("/limited/o", unknown);
    assertThat(failed.statusCode()).as("fail-closed: refused, Gateway's status code")
        .isEqualTo(429);
    assertThat(GatewayScenarios.header(failed, "X-RateLimit-Limit")).as("no count behind it")
        .isNull();
    assertThat(GatewayScenarios.header(failed, "Retry-After")).isNull();
    assertThat(GatewayScenarios.header(failed, "RateLimit")).isNull();
    assertThat(BACKEND.hits("/limited/o", unknown)).isZero();
    assertThat(BACKEND.hits("/limited/o", refusedBefore)).isEqualTo(5);
  }
}
