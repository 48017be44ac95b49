package dev.sluice.webflux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.Limit;
import dev.sluice.http.HttpLimiter;
import dev.sluice.http.Rule;
import dev.sluice.http.Verdict;
import dev.sluice.redis.RedisServer;
import dev.sluice.redis.RedisStore;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.server.WebFilter;
import reactor.blockhound.BlockHound;

/**
 * No blocking call on an event loop: BlockHound (with Reactor's and Netty's integrations) is
 * installed for this JVM, watching Reactor Netty's and Lettuce's event-loop threads besides
 * Reactor's non-blocking schedulers, and records every blocking call it sees there (letting it
 * go on). This class runs in a JVM of its own (the module's surefire forks per class). The filter
 * over the Redis store, under 64 concurrent requests on a hot key with two rules (decisions,
 * refusals with refunds) and a charge-on rule (refunds after the response), makes none; the same
 * server with a filter that calls the synchronous {@link HttpLimiter#decide} is caught.
 */
class BlockHoundRedisTest {

  private static final Queue<String> BLOCKED = new ConcurrentLinkedQueue<>();
  private static RedisServer redis;

  @BeforeAll
  static void install() {
    assumeTrue(RedisServer.canStart(), "needs a redis-server on the PATH or in embedded-redis");
    BlockHound.builder()
        .nonBlockingThreadPredicate(p -> p.or(t -> t.getName().startsWith("reactor-http-")
            || (t.getName().startsWith("lettuce-") && t.getName().contains("EventLoop"))))
        // The timer's tick wait is that thread's job, not a call made on an event loop.
        .allowBlockingCallsInside("io.netty.util.HashedWheelTimer$Worker", "waitForNextTick")
        // Record, and let the call go on: throwing would break the client's threads for the
        // tests that follow in this JVM.
        .blockingMethodCallback(m -> BLOCKED.add(m + " on " + Thread.currentThread().getName()))
        .install();
    redis = RedisServer.start();
  }

  @AfterAll
  static void stop() {
    if (redis != null) {
      redis.close();
    }
  }

  @BeforeEach
  void clear() {
    BLOCKED.clear();
  }

  private static HttpLimiter limiter(RedisStore.Factory store) {
    return HttpLimiter.builder().store(store).key(WebFilterScenarios.KEY)
        .rule(Rule.builder("api", Limit.perHour(40)).build())
        .rule(Rule.builder("tight", Limit.perHour(10)).paths("/t").build())
        .rule(Rule.builder("login", Limit.perHour(1000)).paths("/login").chargeOn(401).build())
        .build();
  }

  @Test
  void filterOnRedis_64ConcurrentRequests_noBlockingCallOnAnEventLoop() {
    try (RedisStore.Factory store = RedisStore.factory(redis.uri()).namespace("hound")
            .deadline(RedisWebFilterTest.DEADLINE);
        HttpLimiter limiter = limiter(store);
        TestServer server = TestServer.start(RateLimitWebFilter.builder(limiter).build())) {
      List<Integer> statuses = fire(server, 192);
      assertThat(statuses).isSubsetOf(200, 401, 429);
      assertThat(statuses).as("refusals happened: refunds were sent").contains(429);
      assertThat(BLOCKED).isEmpty();
    }
  }

  @Test
  void synchronousDecideOnTheEventLoop_isCaught() {
    try (RedisStore.Factory store = RedisStore.factory(redis.uri()).namespace("hound-sync")
            .deadline(RedisWebFilterTest.DEADLINE);
        HttpLimiter limiter = limiter(store)) {
      WebFilter blocking = (exchange, chain) -> {
        Verdict v = limiter.decide(RateLimitWebFilter.requestView(exchange, null));
        return v.allowed() ? chain.filter(exchange) : exchange.getResponse().setComplete();
      };
      try (TestServer server = TestServer.start(blocking)) {
        List<Integer> statuses = fire(server, 8);
        assertThat(BLOCKED).as("BlockHound saw the wait for Redis").isNotEmpty();
        assertThat(BLOCKED).allMatch(s -> s.contains(" on reactor-http-"));
        assertThat(statuses).isSubsetOf(200, 401, 429);
      }
    }
  }

  /** {@code n} requests, 64 in flight at most, on one hot key, over /t, /u and /login. */
  private static List<Integer> fire(TestServer server, int n) {
    List<Integer> statuses = new ArrayList<>();
    String[] paths = {"/t", "/u", "/login"};
    for (int start = 0; start < n; start += 64) {
      List<CompletableFuture<HttpResponse<String>>> wave = new ArrayList<>();
      for (int i = start; i < Math.min(n, start + 64); i++) {
        wave.add(server.getAsync(paths[i % 3], "X-Key", "hot", "X-Status",
            i % 2 == 0 ? "401" : "200"));
      }
      for (CompletableFuture<HttpResponse<String>> f : wave) {
        statuses.add(f.join().statusCode());
      }
    }
    return statuses;
  }
}
