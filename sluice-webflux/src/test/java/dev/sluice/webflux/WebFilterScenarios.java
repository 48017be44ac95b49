package dev.sluice.webflux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import dev.sluice.Limit;
import dev.sluice.http.HttpLimiter;
import dev.sluice.http.KeyResolver;
import dev.sluice.http.RequestView;
import dev.sluice.http.Rule;
import dev.sluice.spi.RateStoreFactory;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The filter in a real Reactor Netty server, over a store that each subclass gives: the same
 * scenarios in memory and on a real Redis. Limits are per hour, so no refill happens during a
 * test whichever clock the store reads; each test uses keys of its own.
 */
abstract class WebFilterScenarios {

  static final KeyResolver KEY = KeyResolver.header("X-Key");

  /** The store under test (a fresh namespace or instance per call). */
  abstract RateStoreFactory store();

  /**
   * Whether a refund gives back exactly what was taken (in memory, with the take microseconds
   * ago). The Redis store adds its deadline to the time held (the most a refund can take to
   * reach Redis's clock), so each refund returns a little less than a permit: never more.
   */
  abstract boolean exactRefunds();

  /** A key no other test uses. */
  static String key() {
    return UUID.randomUUID().toString();
  }

  HttpLimiter.Builder limiter() {
    return HttpLimiter.builder().store(store()).key(KEY);
  }

  @Test
  void overTheLimit_429WithProblemBodyAndHeaders_handlerNotReached() {
    try (HttpLimiter limiter = limiter()
            .rule(Rule.builder("api", Limit.perHour(3)).paths("/api/**").build()).build();
        TestServer server = TestServer.start(RateLimitWebFilter.builder(limiter).build())) {
      String k = key();
      for (int i = 2; i >= 0; i--) {
        HttpResponse<String> ok = server.get("/api/x", "X-Key", k);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("ok");
        assertThat(ok.headers().firstValue("X-RateLimit-Limit")).hasValue("3");
        assertThat(ok.headers().firstValue("X-RateLimit-Remaining")).hasValue(Integer.toString(i));
        assertThat(ok.headers().firstValue("X-Seen-Remaining")).as("the decision attribute")
            .hasValue(Integer.toString(i));
      }
      HttpResponse<String> refused = server.get("/api/x", "X-Key", k);
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.headers().firstValue("Content-Type"))
          .hasValue("application/problem+json");
      assertThat(refused.headers().firstValue("Cache-Control")).hasValue("no-store");
      assertThat(refused.headers().firstValue("X-RateLimit-Remaining")).hasValue("0");
      assertThat(Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow()))
          .isBetween(1L, 3600L);
      assertThat(refused.headers().firstValue("RateLimit-Policy")).isPresent();
      assertThat(refused.body()).contains("\"status\":429")
          .contains("\"violated-policies\":[\"api\"]");
      assertThat(server.hits.get()).as("the refusal never reached the handler").isEqualTo(3);
      assertThat(server.get("/api/x", "X-Key", key()).statusCode()).as("another key")
          .isEqualTo(200);
    }
  }

  @Test
  void exemptAndUnmatchedPaths_passWithoutHeaders_dotSegmentsDoNotEscape() {
    try (HttpLimiter limiter = limiter().exempt("/health")
            .rule(Rule.builder("all", Limit.perHour(1)).paths("/**").build()).build();
        TestServer server = TestServer.start(RateLimitWebFilter.builder(limiter).build())) {
      String k = key();
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> health = server.get("/health", "X-Key", k);
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.headers().firstValue("X-RateLimit-Limit")).isEmpty();
      }
      assertThat(server.get("/api/x", "X-Key", k).statusCode()).isEqualTo(200);
      assertThat(server.get("/health/%2e%2e/api/x", "X-Key", k).statusCode())
          .as("a dot segment is resolved before the exempt paths match").isEqualTo(429);
      assertThat(server.get("/health;x=1", "X-Key", k).statusCode())
          .as("path parameters are dropped").isEqualTo(200);
    }
  }

  @Test
  void missingKey_403Problem_handlerNotReached() {
    try (HttpLimiter limiter = limiter()
            .rule(Rule.builder("api", Limit.perHour(3)).build()).build();
        TestServer server = TestServer.start(RateLimitWebFilter.builder(limiter).build())) {
      HttpResponse<String> r = server.get("/api/x");
      assertThat(r.statusCode()).isEqualTo(403);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
      assertThat(r.body()).contains("\"status\":403");
      assertThat(server.get("/api/x", "X-Key", "   ").statusCode()).as("a blank key")
          .isEqualTo(403);
      assertThat(server.hits.get()).isZero();
    }
  }

  @Test
  void shadowRule_wouldRefuse_passesAndIsPublished() {
    try (HttpLimiter limiter = limiter()
            .rule(Rule.builder("enforced", Limit.perHour(10)).build())
            .rule(Rule.builder("trial", Limit.perHour(1)).shadow(true).build()).build();
        TestServer server = TestServer.start(RateLimitWebFilter.builder(limiter).build())) {
      String k = key();
      assertThat(server.get("/x", "X-Key", k).headers().firstValue("X-Seen-Shadow")).isEmpty();
      HttpResponse<String> second = server.get("/x", "X-Key", k);
      assertThat(second.statusCode()).isEqualTo(200);
      assertThat(second.headers().firstValue("X-Seen-Shadow")).hasValue("trial");
      assertThat(second.headers().firstValue("X-RateLimit-Remaining"))
          .as("headers describe the enforced rule").hasValue("8");
    }
  }

  @Test
  void chargeOn_onlyMatchingStatusesCount_alsoFromAnErrorHandler() {
    try (HttpLimiter limiter = limiter()
            .rule(Rule.builder("login", Limit.perHour(2)).chargeOn(401).build()).build();
        TestServer server = TestServer.start(RateLimitWebFilter.builder(limiter).build())) {
      String k = key();
      for (int i = 0; i < 5; i++) {
        assertThat(server.get("/login", "X-Key", k).statusCode()).as("200s are not charged")
            .isEqualTo(200);
      }
      assertThat(server.get("/boom", "X-Key", k).statusCode())
          .as("an exception: 500, not charged").isEqualTo(500);
      int admitted = 0;
      while (server.get("/login", "X-Key", k, "X-Status", "401").statusCode() == 401) {
        admitted++;
        assertThat(admitted).as("never more than the limit").isLessThanOrEqualTo(2);
      }
      assertThat(admitted).as("the refunds left the budget").isEqualTo(exactRefunds() ? 2 : 1);

      String other = key(); // no refund on this key: exact in every store
      assertThat(server.get("/denied", "X-Key", other).statusCode())
          .as("a 401 answered by the error handler").isEqualTo(401);
      assertThat(server.get("/login", "X-Key", other, "X-Status", "401").statusCode())
          .isEqualTo(401);
      assertThat(server.get("/login", "X-Key", other).statusCode())
          .as("both 401s were charged").isEqualTo(429);
    }
  }

  @Test
  void twoRules_oneRefuses_theOtherGivesBack() {
    try (HttpLimiter limiter = limiter()
            .rule(Rule.builder("a", Limit.perHour(5)).paths("/api/**").build())
            .rule(Rule.builder("b", Limit.perHour(1)).paths("/api/b").build()).build();
        TestServer server = TestServer.start(RateLimitWebFilter.builder(limiter).build())) {
      String k = key();
      assertThat(server.get("/api/b", "X-Key", k).statusCode()).isEqualTo(200);
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> refused = server.get("/api/b", "X-Key", k);
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.body()).contains("\"violated-policies\":[\"b\"]");
      }
      List<String> remaining = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> r = server.get("/api/x", "X-Key", k);
        remaining.add(r.statusCode() + ":" + r.headers().firstValue("X-RateLimit-Remaining")
            .orElse("-"));
      }
      // Without the refunds, a would admit 1 more; with exact ones, 4 (all but b's first).
      assertThat(remaining).containsExactly(exactRefunds()
          ? new String[] {"200:3", "200:2", "200:1", "200:0", "429:0"}
          : new String[] {"200:2", "200:1", "200:0", "429:0", "429:0"});
    }
  }

  @Test
  void concurrentRequests_twoRules_neverOverTheLimits_refundsLeaveTheCountExact() {
    try (HttpLimiter limiter = limiter()
            .rule(Rule.builder("api", Limit.perHour(20)).build())
            .rule(Rule.builder("tight", Limit.perHour(10)).paths("/t").build()).build();
        TestServer server = TestServer.start(RateLimitWebFilter.builder(limiter).build())) {
      String k = key();
      List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        all.add(server.getAsync(i % 2 == 0 ? "/t" : "/u", "X-Key", k));
      }
      int ok = 0;
      int okTight = 0;
      for (int i = 0; i < all.size(); i++) {
        int s = all.get(i).join().statusCode();
        assertThat(s).isIn(200, 429);
        ok += s == 200 ? 1 : 0;
        okTight += s == 200 && i % 2 == 0 ? 1 : 0;
      }
      assertThat(okTight).isLessThanOrEqualTo(10);
      assertThat(ok).isLessThanOrEqualTo(20);
      // Every refused request's refund was answered before its response: what the rules hold
      // now is what the admitted requests took (less under a refund's margin).
      long api = limiter.availablePermits(new Key(k), "api").orElseThrow();
      long tight = limiter.availablePermits(new Key(k), "tight").orElseThrow();
      if (exactRefunds()) {
        assertThat(api).isEqualTo(20 - ok);
        assertThat(tight).isEqualTo(10 - okTight);
      } else {
        assertThat(api).isBetween(20L - ok - 1, 20L - ok);
        assertThat(tight).isBetween(10L - okTight - 1, 10L - okTight);
      }
    }
  }

  /**
   * Whatever thread completed the decision or the refunds (Redis: a Lettuce I/O thread), the
   * handler, the commit and a refusal run on the server's event loop: an exchange completed off
   * its connection's loop can lose the connection's next keep-alive request in Reactor Netty 1.3
   * (it never got an answer), and handlers must not run on the Redis client's threads.
   */
  @Test
  void handlerCommitAndRefusal_runOnTheServersEventLoop() {
    RejectionWriter named = (exchange, r) -> {
      exchange.getResponse().getHeaders().set("X-Reject-Thread", Thread.currentThread().getName());
      return RejectionWriter.problemJson().reject(exchange, r);
    };
    try (HttpLimiter limiter = limiter()
            .rule(Rule.builder("login", Limit.perHour(10)).chargeOn(401).paths("/login").build())
            .rule(Rule.builder("a", Limit.perHour(10)).paths("/api/**").build())
            .rule(Rule.builder("b", Limit.perHour(1)).paths("/api/b").build()).build();
        TestServer server = TestServer.start(
            RateLimitWebFilter.builder(limiter).rejectionWriter(named).build())) {
      String k = key();
      for (int i = 0; i < 3; i++) {
        // a 200 is not charged: the commit waits for the refund
        HttpResponse<String> login = server.get("/login", "X-Key", k);
        assertThat(login.statusCode()).isEqualTo(200);
        assertThat(login.headers().firstValue("X-Handler-Thread")).get(STRING)
            .startsWith("reactor-http-");
        assertThat(login.headers().firstValue("X-Commit-Thread")).get(STRING)
            .startsWith("reactor-http-");
      }
      assertThat(server.get("/api/b", "X-Key", k).headers().firstValue("X-Handler-Thread"))
          .get(STRING).startsWith("reactor-http-");
      for (int i = 0; i < 3; i++) {
        // b refuses, a gives back: the refusal is written once the refund is answered
        HttpResponse<String> refused = server.get("/api/b", "X-Key", k);
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("X-Reject-Thread")).get(STRING)
            .startsWith("reactor-http-");
      }
    }
  }

  /** A request with key {@code k}, to read a bucket. */
  record Key(String k) implements RequestView {
    @Override
    public String method() {
      return "GET";
    }

    @Override
    public String path() {
      return "/";
    }

    @Override
    public List<String> headers(String name) {
      return name.equalsIgnoreCase("X-Key") ? List.of(k) : List.of();
    }

    @Override
    public String remoteAddress() {
      return "127.0.0.1";
    }

    @Override
    public String principal() {
      return null;
    }
  }
}
