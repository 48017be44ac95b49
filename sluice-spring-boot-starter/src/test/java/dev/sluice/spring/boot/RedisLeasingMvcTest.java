package dev.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.redis.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@code sluice.redis.leasing}: a hot key is served from leases, so 100 requests on it cost far
 * fewer than 100 script calls in Redis ({@code INFO commandstats}); each answered 200.
 */
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"sluice.store=redis", "sluice.redis.deadline=2s", "sluice.redis.leasing=1s",
        "sluice.failure-mode=closed", "sluice.rules[0].name=hot", "sluice.rules[0].key=ip",
        "sluice.rules[0].paths=/api/**", "sluice.rules[0].limits[0].permits=100000",
        "sluice.rules[0].limits[0].per=1s"})
@ActiveProfiles("memory")
@DirtiesContext
class RedisLeasingMvcTest {

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

  @Test
  void hotKey_leased_fewScriptCallsForAHundredRequests() {
    Http http = new Http(port);
    assertThat(http.get("/api/hello").statusCode()).isEqualTo(200); // connected, script loaded
    long before = scriptCalls();
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      statuses.add(http.get("/api/hello").statusCode());
    }
    long calls = scriptCalls() - before;
    assertThat(statuses).containsOnly(200);
    // unleased: one call per request (100); leased: the first few, then one per lease, whose
    // size doubles (plus the heartbeat's script every 2 s)
    assertThat(calls).as("script calls for 100 requests on one key").isLessThanOrEqualTo(50);
  }

  /** EVAL and EVALSHA calls Redis has served, from INFO commandstats. */
  private static long scriptCalls() {
    RedisClient client = RedisClient.create(REDIS.uri());
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      long n = 0;
      for (String line : c.sync().info("commandstats").split("\r?\n")) {
        if (line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:")) {
          int at = line.indexOf("calls=") + "calls=".length();
          n += Long.parseLong(line.substring(at, line.indexOf(',', at)));
        }
      }
      return n;
    } finally {
      client.shutdown();
    }
  }
}
