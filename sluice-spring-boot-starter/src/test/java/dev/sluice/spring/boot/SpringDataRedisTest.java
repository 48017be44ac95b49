package dev.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.redis.RedisServer;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * No {@code sluice.redis.uri}: the store uses the application's Spring Data Redis (Lettuce)
 * client, and closing Sluice leaves that client working.
 */
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"sluice.store=redis", "sluice.redis.deadline=2s", "sluice.failure-mode=closed"})
@ActiveProfiles("memory")
@DirtiesContext
class SpringDataRedisTest {

  static final RedisServer REDIS = RedisServer.start();

  @DynamicPropertySource
  static void redis(DynamicPropertyRegistry registry) {
    registry.add("spring.data.redis.url", REDIS::uri);
  }

  @AfterAll
  static void stop() {
    REDIS.close();
  }

  @Value("${local.server.port}")
  int port;

  @Autowired
  Sluice sluice;

  @Autowired
  StringRedisTemplate redis;

  @Test
  void applicationsClient_isUsed_andNotClosedBySluice() {
    Http http = new Http(port);
    String k = "free-" + UUID.randomUUID();
    for (int i = 0; i < 3; i++) {
      assertThat(http.get("/api/hello", "X-API-Key", k).statusCode()).isEqualTo(200);
    }
    assertThat(http.get("/api/hello", "X-API-Key", k).statusCode()).isEqualTo(429);
    assertThat(sluice.store()).contains("Spring Data Redis");
    assertThat(redis.keys("*")).as("buckets in the application's Redis").isNotEmpty();

    sluice.close();
    redis.opsForValue().set("still", "open");
    assertThat(redis.opsForValue().get("still")).isEqualTo("open");
  }
}
