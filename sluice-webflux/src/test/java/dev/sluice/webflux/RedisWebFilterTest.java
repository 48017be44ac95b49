package dev.sluice.webflux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.RateLimiter;
import dev.sluice.http.HttpLimiter;
import dev.sluice.http.Rule;
import dev.sluice.redis.RedisServer;
import dev.sluice.redis.RedisStore;
import dev.sluice.spi.RateStoreFactory;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The scenarios over a real redis-server, and a fail-closed store whose server is killed. */
class RedisWebFilterTest extends WebFilterScenarios {

  private static final AtomicInteger NAMESPACES = new AtomicInteger();
  /**
   * Generous: a busy 2-core machine must not turn a slow reply into a failure mode. A refund
   * keeps this much refill (see {@link #exactRefunds()}): small beside the limits' periods.
   */
  static final Duration DEADLINE = Duration.ofSeconds(2);

  private static RedisServer redis;
  private final List<RedisStore.Factory> factories = new ArrayList<>();

  @BeforeAll
  static void startRedis() {
    assumeTrue(RedisServer.canStart(), "needs a redis-server on the PATH or in embedded-redis");
    redis = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    if (redis != null) {
      redis.close();
    }
  }

  @AfterEach
  void closeFactories() {
    factories.forEach(RedisStore.Factory::close);
    factories.clear();
  }

  @Override
  RateStoreFactory store() {
    RedisStore.Factory f = RedisStore.factory(redis.uri()).deadline(DEADLINE)
        .namespace("webflux" + NAMESPACES.incrementAndGet());
    factories.add(f);
    return f;
  }

  @Override
  boolean exactRefunds() {
    return false;
  }

  @Test
  void redisKilled_failClosed503() {
    try (RedisServer own = RedisServer.start();
        RedisStore.Factory f = RedisStore.factory(own.uri()).deadline(DEADLINE);
        RateLimiter<String> api = RateLimiter.builder(Limit.perHour(5)).name("api").store(f)
            .failureMode(FailureMode.CLOSED).build();
        HttpLimiter limiter = HttpLimiter.builder().key(KEY).rule(Rule.builder(api).build())
            .build();
        TestServer server = TestServer.start(RateLimitWebFilter.builder(limiter).build())) {
      String k = key();
      assertThat(server.get("/x", "X-Key", k).statusCode()).isEqualTo(200);
      own.kill();
      HttpResponse<String> r = server.get("/x", "X-Key", k);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).contains("\"status\":503");
      assertThat(server.hits.get()).isEqualTo(1);
    }
  }
}
