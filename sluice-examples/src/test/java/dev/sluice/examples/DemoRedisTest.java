package dev.sluice.examples;

import static dev.sluice.examples.DemoMetricsTest.scrape;
import static dev.sluice.examples.DemoServerTest.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.redis.RedisServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The demo with {@code --redis} against a real redis-server that the test starts (see
 * {@link RedisServer}), in-process, over real HTTP: buckets shared by two servers, then Redis
 * killed under each failure mode, with {@code /metrics} counting what happened.
 */
class DemoRedisTest {

  private static final List<String> RATE_LIMIT_HEADERS = List.of("X-RateLimit-Limit",
      "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit", "RateLimit-Policy", "Retry-After");

  private static DemoServer start(String redis, String... args) throws Exception {
    // A deadline a loaded machine keeps: these tests count what the store decided (a call past
    // the 50 ms default would be the failure mode's); a killed Redis fails fast either way.
    List<String> all = new ArrayList<>(List.of("--port", "0", "--redis", redis,
        "--limit", "1/h", "--burst", "3", "--key", "header:X-API-Key", "--redis-deadline", "5s"));
    all.addAll(List.of(args));
    return DemoServer.start(DemoOptions.parse(all.toArray(new String[0]),
        Map.<String, String>of()::get), new ManualTicker());
  }

  private static HttpResponse<String> hello(DemoServer demo, String key) throws Exception {
    return get(demo.baseUrl() + "/hello", "X-API-Key", key);
  }

  private static double count(Scrape s, String name, String... labels) {
    String[] all = new String[labels.length + 2];
    all[0] = "limiter";
    all[1] = "api";
    System.arraycopy(labels, 0, all, 2, labels.length);
    Double v = s.get(name, all);
    assertThat(v).as(name + " " + List.of(labels) + " in\n" + s.dump("sluice_")).isNotNull();
    return v;
  }

  private static RedisServer redis() throws Exception {
    assumeTrue(RedisServer.canStart(), "needs a redis-server on the PATH or in embedded-redis");
    return RedisServer.start();
  }

  /**
   * {@code --max-wait} on Redis: four requests at once on one key at 1/s (capacity 1) with a 10 s
   * wait are all served, the last no earlier than 3 s after the burst began. The refusals that
   * make them queue come from Redis or, for requests arriving within the second, from the deny
   * cache: either way the request reserves in Redis and is never refused for the cache.
   */
  @Test
  void maxWait_onRedis_queuedRequestsServedInTime_denyCacheRefusesNone() throws Exception {
    try (RedisServer redis = redis(); DemoServer demo = DemoServer.start(DemoOptions.parse(
        new String[] {"--port", "0", "--redis", redis.uri(), "--limit", "1/s", "--burst", "1",
            "--key", "header:X-API-Key", "--max-wait", "10s"}, Map.<String, String>of()::get),
        dev.sluice.Ticker.system())) {
      long begin = System.nanoTime();
      List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        sent.add(DemoServerTest.CLIENT.sendAsync(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(demo.baseUrl() + "/hello")).header("X-API-Key", "q")
                .timeout(java.time.Duration.ofSeconds(60)).build(),
            HttpResponse.BodyHandlers.ofString()));
        if (i == 1) {
          // once Redis has refused the second (and the store remembered it), the next two are
          // refused by the deny cache, within the second the refusal stays valid
          long until = System.nanoTime() + 30_000_000_000L;
          Double denied = null;
          while ((denied == null || denied < 1) && System.nanoTime() - until < 0) {
            denied = scrape(demo.baseUrl()).get("sluice_decisions_total", "limiter", "api",
                "result", "denied", "shadow", "false");
          }
          assertThat(denied).as("the second request refused once").isNotNull()
              .isGreaterThanOrEqualTo(1.0);
        }
      }
      for (java.util.concurrent.CompletableFuture<HttpResponse<String>> f : sent) {
        HttpResponse<String> r = f.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      }
      assertThat(System.nanoTime() - begin).as("4 permits at 1/s from one: never early")
          .isGreaterThanOrEqualTo(3_000_000_000L);
    }
  }

  /**
   * {@code --redis-leasing}: a hot key's requests are served from this server's lease (the
   * decision source header says {@code lease}), and two servers together still admit at most
   * the burst (1/h, so nothing refills).
   */
  @Test
  void redisLeasing_hotKeyServedFromALease_twoServersWithinTheBurst() throws Exception {
    try (RedisServer redis = redis();
        DemoServer a = start(redis.uri(), "--burst", "40", "--redis-leasing", "5s");
        DemoServer b = start(redis.uri(), "--burst", "40", "--redis-leasing", "5s")) {
      assertThat(a.banner()).contains("hot keys leased for 5000 ms");
      int admitted = 0;
      List<String> sources = new ArrayList<>();
      for (DemoServer demo : List.of(a, b)) {
        for (int i = 0; i < 40; i++) {
          HttpResponse<String> r = hello(demo, "k");
          if (r.statusCode() == 200) {
            admitted++;
            sources.add(r.headers().firstValue("Sluice-Decision-Source").orElse("none"));
          }
        }
      }
      assertThat(sources).contains("lease", "store");
      assertThat(admitted).isLessThanOrEqualTo(40);
    }
  }

  @Test
  void twoServersOnOneRedis_shareEachKeysBucket_andStopClosesTheRedisClient() throws Exception {
    try (RedisServer redis = redis();
        DemoServer a = start(redis.uri());
        DemoServer b = start(redis.uri(), "--failure-mode", "closed")) {
      // on a loaded machine the first call may miss its deadline: the banner then says so too
      assertThat(a.banner()).contains("\n  Buckets in Redis at " + redis.uri()
          + "; failure mode local");
      assertThat(get(a.baseUrl() + "/api/status", "X-API-Key", "k").body())
          .contains("\"remaining\":3,\"store\":\"Redis at " + redis.uri() + "\",\"failureMode\":\"local\"");
      HttpResponse<String> first = hello(a, "k");
      assertThat(first.statusCode()).isEqualTo(200);
      assertThat(first.headers().firstValue("X-RateLimit-Remaining")).hasValue("2");
      assertThat(first.headers().firstValue("Sluice-Decision-Source")).hasValue("store");
      assertThat(hello(b, "k").headers().firstValue("X-RateLimit-Remaining")).hasValue("1");
      assertThat(hello(a, "k").headers().firstValue("X-RateLimit-Remaining")).hasValue("0");
      HttpResponse<String> refusedB = hello(b, "k");
      assertThat(refusedB.statusCode()).isEqualTo(429);
      assertThat(refusedB.headers().firstValue("Retry-After")).hasValue("3600");
      assertThat(hello(a, "k").statusCode()).isEqualTo(429);
      assertThat(hello(b, "other").statusCode()).as("keys stay apart").isEqualTo(200);

      Scrape sa = scrape(a.baseUrl());
      Scrape sb = scrape(b.baseUrl());
      assertThat(count(sa, "sluice_decisions_total", "result", "allowed", "shadow", "false")).isEqualTo(2.0);
      assertThat(count(sa, "sluice_decisions_total", "result", "denied", "shadow", "false")).isEqualTo(1.0);
      assertThat(count(sb, "sluice_decisions_total", "result", "allowed", "shadow", "false")).isEqualTo(2.0);
      assertThat(count(sb, "sluice_decisions_total", "result", "denied", "shadow", "false")).isEqualTo(1.0);
      assertThat(count(sa, "sluice_backend_errors_total")).isEqualTo(0.0);
      assertThat(sa.get("sluice_keys", "limiter", "api"))
          .as("a Redis store cannot count keys: no gauge rather than -1").isNull();

      assertThat(a.stop()).isTrue();
      assertThat(a.limiter().decide("k", 1).source()).isEqualTo(Decision.Source.FAILURE_CLOSED);
      assertThatThrownBy(() -> a.redisStores().create("x", dev.sluice.Policy.of(Limit.perHour(1)),
          new ManualTicker())).as("the Redis client is closed").isInstanceOf(IllegalStateException.class);
      assertThat(hello(b, "other").statusCode()).as("b's client is its own").isEqualTo(200);
    }
  }

  @Test
  void redisKilled_failOpen_admitsWithoutRateLimitHeadersAndCountsIt() throws Exception {
    try (RedisServer redis = redis(); DemoServer demo = start(redis.uri(), "--failure-mode", "open")) {
      drainThenKill(demo, redis);
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> r = hello(demo, "fresh");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("Hello from Sluice!\n");
        for (String h : RATE_LIMIT_HEADERS) {
          assertThat(r.headers().firstValue(h)).as(h + " while failing open").isEmpty();
        }
        assertThat(r.headers().firstValue("Sluice-Decision-Source")).hasValue("failure-open");
      }
      Scrape s = scrape(demo.baseUrl());
      assertThat(count(s, "sluice_failure_mode_decisions_total", "mode", "open", "result", "allowed", "shadow", "false"))
          .isEqualTo(5.0);
      assertThat(count(s, "sluice_backend_errors_total")).isEqualTo(5.0);
      assertStoreCountsUnchanged(s);
    }
  }

  @Test
  void redisKilled_failClosed_503WithoutRetryAfterAndCountsIt() throws Exception {
    try (RedisServer redis = redis();
        DemoServer demo = start(redis.uri(), "--failure-mode", "closed")) {
      drainThenKill(demo, redis);
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> r = hello(demo, "fresh");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(r.body()).contains("\"status\":503").doesNotContain("quota");
        for (String h : RATE_LIMIT_HEADERS) {
          assertThat(r.headers().firstValue(h)).as(h + " while failing closed").isEmpty();
        }
      }
      Scrape s = scrape(demo.baseUrl());
      assertThat(count(s, "sluice_failure_mode_decisions_total", "mode", "closed", "result", "denied", "shadow", "false"))
          .isEqualTo(5.0);
      assertThat(count(s, "sluice_backend_errors_total")).isEqualTo(5.0);
      assertStoreCountsUnchanged(s);
    }
  }

  @Test
  void redisKilled_local_thisServersBucketAdmitsTheBurstThen429() throws Exception {
    try (RedisServer redis = redis(); DemoServer demo = start(redis.uri())) {
      drainThenKill(demo, redis);
      for (int left = 2; left >= 0; left--) {
        HttpResponse<String> r = hello(demo, "fresh");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-RateLimit-Remaining")).hasValue(Integer.toString(left));
        assertThat(r.headers().firstValue("Sluice-Decision-Source")).hasValue("local-fallback");
      }
      assertThat(get(demo.baseUrl() + "/api/status", "X-API-Key", "fresh").body())
          .as("the status page reads the local bucket too").contains("\"remaining\":0,");
      HttpResponse<String> refused = hello(demo, "fresh");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("3600");
      assertThat(refused.headers().firstValue("Sluice-Decision-Source")).hasValue("local-fallback");
      Scrape s = scrape(demo.baseUrl());
      assertThat(count(s, "sluice_failure_mode_decisions_total", "mode", "local", "result", "allowed", "shadow", "false"))
          .isEqualTo(3.0);
      assertThat(count(s, "sluice_failure_mode_decisions_total", "mode", "local", "result", "denied", "shadow", "false"))
          .isEqualTo(1.0);
      assertThat(count(s, "sluice_backend_errors_total")).isEqualTo(4.0);
      assertStoreCountsUnchanged(s);
    }
  }

  @Test
  void redisDownAtStart_bannerSaysSo_failureModeAnswersUntilItIsUp() throws Exception {
    assumeTrue(RedisServer.canStart(), "needs a redis-server on the PATH or in embedded-redis");
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort(); // nothing listens there once closed
    }
    try (DemoServer demo = start("redis://127.0.0.1:" + port, "--failure-mode", "open")) {
      assertThat(demo.banner()).contains("\n  Buckets in Redis at redis://127.0.0.1:" + port
          + "; failure mode open (Redis does not answer yet: the failure mode decides until it"
          + " does)\n");
      HttpResponse<String> r = hello(demo, "k");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Sluice-Decision-Source")).hasValue("failure-open");
      assertThat(r.headers().firstValue("X-RateLimit-Remaining")).isEmpty();
    }
  }

  /** Key "k" spends its burst of 3 in Redis and is refused once; then Redis is killed. */
  private static void drainThenKill(DemoServer demo, RedisServer redis) throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(hello(demo, "k").statusCode()).isEqualTo(200);
    }
    assertThat(hello(demo, "k").statusCode()).isEqualTo(429);
    redis.kill();
  }

  private static void assertStoreCountsUnchanged(Scrape s) {
    assertThat(count(s, "sluice_decisions_total", "result", "allowed", "shadow", "false")).isEqualTo(3.0);
    assertThat(count(s, "sluice_decisions_total", "result", "denied", "shadow", "false")).isEqualTo(1.0);
  }
}
