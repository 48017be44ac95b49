package dev.sluice.spring.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.redis.RedisServer;
import dev.sluice.spring.gateway.GatewayApp.Backend;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/** Two gateway nodes with {@code sluice.store=redis} on one redis-server share each bucket. */
class GatewayStarterRedisTest {

  @Test
  void twoGatewayNodes_shareTheRoutesBucketThroughRedis() {
    assumeTrue(RedisServer.canStart(), "needs a redis-server on the PATH or in embedded-redis");
    try (RedisServer redis = RedisServer.start();
        Backend backend = new Backend()) {
      // A deadline far above a loaded machine's first calls, and CLOSED: a store that cannot
      // answer shows as a refusal here, never as a local admission (LOCAL's share would admit).
      String[] sluice = {"sluice.store=redis", "sluice.redis.uri=" + redis.uri(),
          "sluice.redis.deadline=5s", "sluice.failure-mode=closed",
          "sluice.plans.pro[0].permits=3", "sluice.plans.pro[0].per=1h",
          "sluice.plans.pro[0].burst=5"};
      try (ConfigurableApplicationContext a = GatewayApp.start(backend, sluice);
          ConfigurableApplicationContext b = GatewayApp.start(backend, sluice)) {
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          statuses.add(GatewayApp.get(a, "/limited/x", "erin").statusCode());
        }
        for (int i = 0; i < 3; i++) {
          statuses.add(GatewayApp.get(b, "/limited/x", "erin").statusCode());
        }
        statuses.add(GatewayApp.get(a, "/limited/x", "erin").statusCode());
        assertThat(statuses).as("one bucket of 5 across both nodes")
            .containsExactly(200, 200, 200, 200, 200, 429, 429);
        assertThat(backend.hits.get()).isEqualTo(5);
      }
    }
  }
}
