package dev.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.redis.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The reactive application with its buckets in a real redis-server. */
@SpringBootTest(classes = ReactiveTestApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"spring.main.web-application-type=reactive", "sluice.store=redis",
        "sluice.redis.deadline=2s", "sluice.failure-mode=closed"})
@ActiveProfiles("reactive")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@DirtiesContext
class RedisWebFluxTest {

  static final RedisServer REDIS = RedisServer.start();

  @DynamicPropertySource
  static void redis(DynamicPropertyRegistry registry) {
    registry.add("sluice.redis.uri", REDIS::uri);
  }

  @AfterAll
  static void stop() {
    REDIS.close();
  }

  @Value("${local.server.port}")
  int port;

  @Autowired
  Sluice sluice;

  @Test
  @Order(1)
  void freePlan_inRedis_burstOfThreeThen429_andTheBucketIsInRedis() {
    Http http = new Http(port);
    String k = "free-" + UUID.randomUUID();
    for (int i = 0; i < 3; i++) {
      assertThat(http.get("/api/hello", "X-API-Key", k).statusCode()).as("request %d", i + 1)
          .isEqualTo(200);
    }
    HttpResponse<String> refused = http.get("/api/hello", "X-API-Key", k);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.body()).contains("\"violated-policies\":[\"api\"]");
    assertThat(sluice.store()).startsWith("redis redis://127.0.0.1:");

    RedisClient client = RedisClient.create(REDIS.uri());
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      List<String> keys = c.sync().keys("*");
      assertThat(keys).as("bucket keys written by the store").isNotEmpty();
    } finally {
      client.shutdown();
    }
  }

  @Test
  @Order(2)
  void proPlan_andPrincipal_inRedis() {
    Http http = new Http(port);
    String k = "pro-" + UUID.randomUUID();
    for (int i = 0; i < 10; i++) {
      assertThat(http.get("/api/hello", "X-API-Key", k).statusCode()).isEqualTo(200);
    }
    assertThat(http.get("/api/hello", "X-API-Key", k).statusCode()).isEqualTo(429);
    String user = "u-" + UUID.randomUUID();
    assertThat(http.get("/me/hello", "X-User", user).statusCode()).isEqualTo(200);
    assertThat(http.get("/me/hello", "X-User", user).statusCode()).isEqualTo(200);
    assertThat(http.get("/me/hello", "X-User", user).statusCode()).isEqualTo(429);
  }

  /** Last: the server goes away; health says so, and the closed failure mode answers 503. */
  @Test
  @Order(3)
  void redisKilled_healthDown_andFailClosed503() {
    Http http = new Http(port);
    HttpResponse<String> up = http.get("/actuator/health/sluice");
    assertThat(up.body()).contains("\"status\":\"UP\"");
    assertThat(http.get("/actuator/sluice").body()).contains("\"reachable\":true");
    REDIS.kill();
    HttpResponse<String> health = http.get("/actuator/health/sluice");
    assertThat(health.statusCode()).isEqualTo(503);
    assertThat(health.body()).contains("\"status\":\"DOWN\"").contains("\"reachable\":false");
    HttpResponse<String> refused = http.get("/api/hello", "X-API-Key", "free-" + UUID.randomUUID());
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.headers().firstValue("Retry-After")).isEmpty();
  }
}
