package dev.sluice.servlet;

import dev.sluice.http.*;

import static dev.sluice.servlet.HeadersTimelineTest.header;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Rules over real HTTP: paths, methods, costs, exemptions, dispatches, and all-or-nothing. */
class RulesHttpTest {

  @Test
  void exempt_healthAndPage_neverLimitedAndNoHeaders() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder().limit(Limit.perHour(1))
        .exempt("/health", "/static/**").ticker(new ManualTicker()).build();
    try (TestServer server = TestServer.start(filter)) {
      for (int i = 0; i < 5; i++) {
        for (String path : new String[] {"/health", "/static/app.js", "/static"}) {
          HttpResponse<String> r = server.get(path);
          assertThat(r.statusCode()).as(path).isEqualTo(200);
          assertThat(header(r, "X-RateLimit-Limit")).as(path).isEqualTo("-");
          assertThat(header(r, "RateLimit")).as(path).isEqualTo("-");
        }
      }
      assertThat(server.get("/hello").statusCode()).isEqualTo(200);
      assertThat(server.get("/hello").statusCode()).isEqualTo(429);
      assertThat(server.get("/health").statusCode()).isEqualTo(200);
      // the container normalizes before matching: a dot-segment does not sneak past
      assertThat(server.get("/static/../hello").statusCode()).isIn(400, 429);
    }
  }

  @Test
  void rule_pathsAndMethods_onlyMatchingRequestsCount() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder("writes", Limit.perHour(1)).paths("/api/**").methods("post", "PUT")
            .build())
        .ticker(new ManualTicker()).build();
    try (TestServer server = TestServer.start(filter)) {
      for (int i = 0; i < 3; i++) {
        assertThat(server.get("/api/items").statusCode()).isEqualTo(200);
        assertThat(server.send("POST", "/other").statusCode()).isEqualTo(200);
      }
      assertThat(server.send("POST", "/api/items").statusCode()).isEqualTo(200);
      assertThat(server.send("PUT", "/api").statusCode()).isEqualTo(429);
      assertThat(header(server.get("/api/items"), "RateLimit")).isEqualTo("-");
    }
  }

  @Test
  void rule_permitsPerRequest_chargedAndReported() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder("search", Limit.perHour(10)).paths("/search").permits(4).build())
        .rule(Rule.builder("sized", Limit.perHour(10)).paths("/upload")
            .permits((RequestView r) -> Long.parseLong(r.singleHeader("X-Size"))).build())
        .ticker(new ManualTicker()).build();
    try (TestServer server = TestServer.start(filter)) {
      assertThat(header(server.get("/search"), "X-RateLimit-Remaining")).isEqualTo("6");
      assertThat(header(server.get("/search"), "X-RateLimit-Remaining")).isEqualTo("2");
      HttpResponse<String> refused = server.get("/search");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(header(refused, "X-RateLimit-Remaining")).isEqualTo("2");
      assertThat(header(refused, "Retry-After")).isEqualTo("720"); // 2 permits at 6 min each
      assertThat(header(server.get("/upload", "X-Size", "7"), "X-RateLimit-Remaining")).isEqualTo("3");
      HttpResponse<String> free = server.get("/upload", "X-Size", "0");
      assertThat(free.statusCode()).isEqualTo(200);
      assertThat(header(free, "X-RateLimit-Remaining")).as("cost 0: rule skipped").isEqualTo("-");
      assertThat(server.get("/upload", "X-Size", "-1").statusCode()).isEqualTo(500);
    }
  }

  @Test
  void rule_costAboveCapacity_definiteRefusalWithoutRetryAfter() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder("bulk", Limit.perSecond(4)).permits(5).build())
        .ticker(new ManualTicker()).build();
    try (TestServer server = TestServer.start(filter)) {
      HttpResponse<String> r = server.get("/bulk");
      assertThat(r.statusCode()).isEqualTo(429);
      assertThat(header(r, "Retry-After")).isEqualTo("-");
      assertThat(header(r, "X-RateLimit-Remaining")).isEqualTo("4");
      assertThat(r.body()).contains("\"status\":429")
          .contains("The request costs 5 permits but rate limit \\\"bulk\\\" holds at most 4:"
              + " it can never be admitted.");
    }
  }

  @Test
  void forwardDispatch_countedOnce() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder().limit(Limit.perHour(2))
        .ticker(new ManualTicker()).build();
    try (TestServer server = TestServer.start(filter)) {
      HttpResponse<String> r = server.get("/forward");
      assertThat(r.body()).isEqualTo("ok /hello");
      assertThat(header(r, "X-RateLimit-Remaining")).isEqualTo("1");
      assertThat(server.get("/hello").statusCode()).isEqualTo(200);
      assertThat(server.get("/forward").statusCode()).isEqualTo(429);
    }
  }

  @Test
  void severalRules_refusedByTheNarrowRule_takesNothingFromTheBroadOne() throws Exception {
    ManualTicker ticker = new ManualTicker();
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder("api", Limit.perHour(10)).paths("/api/**").build())
        .rule(Rule.builder("expensive", Limit.perHour(2)).paths("/api/expensive").build())
        .ticker(ticker).build();
    try (TestServer server = TestServer.start(filter)) {
      HttpResponse<String> first = server.get("/api/expensive");
      assertThat(header(first, "RateLimit-Policy"))
          .isEqualTo("\"api\";q=10;w=3600, \"expensive\";q=2;w=3600");
      assertThat(header(first, "RateLimit")).isEqualTo("\"api\";r=9;t=360, \"expensive\";r=1;t=1800");
      assertThat(header(first, "X-RateLimit-Limit")).as("the binding rule").isEqualTo("2");
      assertThat(server.get("/api/expensive").statusCode()).isEqualTo(200);
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> refused = server.get("/api/expensive");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(header(refused, "RateLimit")).isEqualTo("\"expensive\";r=0;t=3600");
        assertThat(refused.body()).contains("\"violated-policies\":[\"expensive\"]");
      }
      assertThat(server.available("api")).as("refusals took nothing").isEqualTo(8);
      HttpResponse<String> cheap = server.get("/api/cheap");
      assertThat(header(cheap, "X-RateLimit-Remaining")).isEqualTo("7");
      assertThat(header(cheap, "RateLimit")).isEqualTo("\"api\";r=7;t=1080");
    }
  }

  @Test
  void severalRules_refusedByTheBroadRule_takesNothingFromTheNarrowOne() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder("api", Limit.perHour(3)).paths("/api/**").build())
        .rule(Rule.builder("expensive", Limit.perHour(2)).paths("/api/expensive").build())
        .ticker(new ManualTicker()).build();
    try (TestServer server = TestServer.start(filter)) {
      for (int i = 0; i < 3; i++) {
        assertThat(server.get("/api/cheap").statusCode()).isEqualTo(200);
      }
      HttpResponse<String> refused = server.get("/api/expensive");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(header(refused, "Retry-After")).isEqualTo("1200");
      assertThat(server.available("expensive")).isEqualTo(2);
      assertThat(server.available("api")).isEqualTo(0);
    }
  }

  @Test
  void severalRules_bothShort_retryAfterIsTheLongerWaitAndWaitingItSucceeds() throws Exception {
    ManualTicker ticker = new ManualTicker();
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder("second", Limit.perSecond(1)).build())
        .rule(Rule.builder("minute", Limit.of(2, Duration.ofMinutes(1))).build())
        .ticker(ticker).build();
    try (TestServer server = TestServer.start(filter)) {
      assertThat(server.get("/x").statusCode()).isEqualTo(200);
      HttpResponse<String> refused = server.get("/x");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(header(refused, "Retry-After")).isEqualTo("1");
      assertThat(refused.body()).contains("\"violated-policies\":[\"second\"]");
      ticker.advance(Duration.ofSeconds(1));
      assertThat(server.get("/x").statusCode()).isEqualTo(200);
      ticker.advance(Duration.ofMillis(500));
      HttpResponse<String> both = server.get("/x");
      assertThat(both.statusCode()).isEqualTo(429);
      assertThat(both.body()).contains("\"violated-policies\":[\"second\",\"minute\"]");
      assertThat(header(both, "Retry-After")).isEqualTo("29"); // minute: 28.5 s; second: 0.5 s
      ticker.advance(Duration.ofSeconds(28));
      assertThat(server.get("/x").statusCode()).isEqualTo(429);
      ticker.advance(Duration.ofSeconds(1));
      assertThat(server.get("/x").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void severalLimitsInOneRule_policyItemsPerLimit() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder("api", Policy.of(Limit.perSecond(5), Limit.perHour(100))).build())
        .ticker(new ManualTicker()).build();
    try (TestServer server = TestServer.start(filter)) {
      HttpResponse<String> r = server.get("/x");
      assertThat(header(r, "RateLimit-Policy")).isEqualTo("\"api.1\";q=5;w=1, \"api.2\";q=100;w=3600");
      // r counts the limit with the fewest permits left; t is when the whole rule is full again
      // (36 s for the hourly limit): for the named limit an upper bound, never too early
      assertThat(header(r, "RateLimit")).isEqualTo("\"api.1\";r=4;t=36");
      assertThat(header(r, "X-RateLimit-Reset")).isEqualTo("36");
    }
  }

  @Test
  void ruleFromLimiterPassedIn_usedAndNeverClosedByTheFilter() throws Exception {
    RateLimiter<String> shared = RateLimiter.builder(Limit.perHour(2)).name("shared")
        .ticker(new ManualTicker()).build();
    RateLimitFilter filter = RateLimitFilter.builder().rule(Rule.builder(shared).build()).build();
    try (TestServer server = TestServer.start(filter)) {
      assertThat(header(server.get("/x"), "RateLimit")).isEqualTo("\"shared\";r=1;t=1800");
      assertThat(shared.size()).isEqualTo(1);
    }
    filter.close();
    assertThat(shared.size()).as("still open, still holding the key").isEqualTo(1);
    assertThat(shared.tryAcquire("k")).isTrue();
  }
}
