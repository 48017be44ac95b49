package dev.sluice.servlet;

import dev.sluice.http.*;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.RateLimiter;
import dev.sluice.spi.contract.SwitchableStoreFactory;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Over real Jetty: what a client sees when the limiter's store is down, per failure mode. The
 * store is the real in-memory one behind a switch ({@link SwitchableStoreFactory}, from the core
 * test-jar) that makes it fail like an unreachable backend.
 */
class FailureModeHttpTest {

  private final SwitchableStoreFactory stores = SwitchableStoreFactory.create();
  private final AtomicBoolean down = stores.down();
  private final ManualTicker ticker = new ManualTicker(42);

  private RateLimiter<String> limiter(String name, Limit limit, FailureMode mode) {
    return RateLimiter.builder(limit).name(name).ticker(ticker).failureMode(mode)
        .store(stores).build();
  }

  private static void assertNoRateLimitHeaders(HttpResponse<String> r) {
    for (String h : new String[] {"X-RateLimit-Limit", "X-RateLimit-Remaining",
        "X-RateLimit-Reset", "RateLimit", "RateLimit-Policy", "Retry-After"}) {
      assertThat(r.headers().firstValue(h)).as(h).isEmpty();
    }
  }

  @Test
  void storeDown_failClosed_503ProblemWithoutRateLimitHeaders() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder(limiter("api", Limit.perSecond(2), FailureMode.CLOSED)).build()).build();
    try (TestServer server = TestServer.start(filter)) {
      assertThat(server.get("/hello").statusCode()).isEqualTo(200);
      down.set(true);
      HttpResponse<String> r = server.get("/hello");
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
      assertThat(r.body()).isEqualTo("{\"type\":\"about:blank\",\"title\":\"Service Unavailable\","
          + "\"status\":503,\"detail\":\"Rate limit \\\"api\\\" cannot be checked now: its store"
          + " is unavailable.\"}");
      assertNoRateLimitHeaders(r);
      down.set(false);
      HttpResponse<String> back = server.get("/hello");
      assertThat(back.statusCode()).isEqualTo(200);
      assertThat(back.headers().firstValue("X-RateLimit-Remaining")).hasValue("0");
    }
  }

  @Test
  void storeDown_failOpen_admittedWithoutRateLimitHeaders() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder(limiter("api", Limit.perSecond(2), FailureMode.OPEN)).build()).build();
    try (TestServer server = TestServer.start(filter)) {
      down.set(true);
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> r = server.get("/hello");
        assertThat(r.statusCode()).isEqualTo(200);
        assertNoRateLimitHeaders(r);
      }
    }
  }

  @Test
  void storeDown_local_realDecisionsFromThisNodesBuckets() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder(limiter("api", Limit.perSecond(2), FailureMode.LOCAL)).build()).build();
    try (TestServer server = TestServer.start(filter)) {
      down.set(true);
      HttpResponse<String> first = server.get("/hello");
      assertThat(first.statusCode()).isEqualTo(200);
      assertThat(first.headers().firstValue("X-RateLimit-Remaining")).hasValue("1");
      assertThat(server.get("/hello").statusCode()).isEqualTo(200);
      HttpResponse<String> third = server.get("/hello");
      assertThat(third.statusCode()).isEqualTo(429);
      assertThat(third.headers().firstValue("Retry-After")).hasValue("1");
    }
  }

  @Test
  void twoRules_oneStoreDownFailClosedOtherOverQuota_quotaRefusalWins() throws Exception {
    AtomicBoolean otherDown = down;
    RateLimiter<String> failing = limiter("shared", Limit.perSecond(100), FailureMode.CLOSED);
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder(failing).build())
        .rule(Rule.builder("tight", Limit.perHour(1)).build())
        .ticker(ticker).build();
    try (TestServer server = TestServer.start(filter)) {
      assertThat(server.get("/hello").statusCode()).isEqualTo(200);
      otherDown.set(true);
      HttpResponse<String> r = server.get("/hello");
      assertThat(r.statusCode()).isEqualTo(429);
      assertThat(r.headers().firstValue("Retry-After")).hasValue("3600");
      assertThat(r.body()).contains("\"violated-policies\":[\"tight\"]");
    }
  }

  @Test
  void availablePermits_storeDown_followsTheFailureMode() {
    down.set(true);
    assertThat(limiter("a", Limit.perSecond(5), FailureMode.OPEN).availablePermits("k")).isEqualTo(5);
    assertThat(limiter("b", Limit.perSecond(5), FailureMode.CLOSED).availablePermits("k")).isZero();
    RateLimiter<String> local = limiter("c", Limit.perSecond(5), FailureMode.LOCAL);
    local.decide("k", 2);
    assertThat(local.availablePermits("k")).isEqualTo(3);
  }
}
