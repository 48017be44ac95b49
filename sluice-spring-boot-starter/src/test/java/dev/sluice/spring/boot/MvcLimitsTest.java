package dev.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;

/**
 * A real application on a random port, limited by the properties in
 * {@code application-memory.yml}, spoken to over HTTP. Each test uses keys of its own, so the
 * tests share one context and never each other's buckets.
 */
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("memory")
class MvcLimitsTest {

  @Value("${local.server.port}")
  int port;

  Http http;

  @BeforeEach
  void client() {
    http = new Http(port);
  }

  static String key(String prefix) {
    return prefix + UUID.randomUUID();
  }

  @Test
  void freePlan_burstOfThree_thenProblem429() {
    String k = key("free-");
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> ok = http.get("/api/hello", "X-API-Key", k);
      assertThat(ok.statusCode()).as("request %d", i + 1).isEqualTo(200);
      assertThat(ok.body()).isEqualTo("hello");
    }
    HttpResponse<String> refused = http.get("/api/hello", "X-API-Key", k);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(refused.body()).contains("\"status\":429").contains("\"violated-policies\":[\"api\"]");
    // 2 per hour: the next permit is half an hour away
    long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retryAfter).isBetween(1700L, 1800L);
  }

  /**
   * {@code max-wait: 2s} on 5 per second (burst 1) and 3 per hour: the second and third requests
   * wait their turn (due 200 and 400 ms after the first's decision, never earlier) and are
   * served; the fourth would wait about 20 minutes for the hourly limit and is refused at once.
   */
  @Test
  void maxWait_excessRequestsQueueWithinTheWait_beyondItRefused() {
    String k = key("q-");
    long sent = System.nanoTime();
    for (int i = 0; i < 3; i++) {
      assertThat(http.get("/queued/hello", "X-API-Key", k).statusCode()).as("request %d", i + 1)
          .isEqualTo(200);
    }
    assertThat(System.nanoTime() - sent).as("the third was due 400 ms after the first")
        .isGreaterThanOrEqualTo(400_000_000L);
    HttpResponse<String> refused = http.get("/queued/hello", "X-API-Key", k);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.body()).contains("\"violated-policies\":[\"queued\"]");
  }

  @Test
  void proPlan_chosenBySpel_hasTenPermits() {
    String k = key("pro-");
    for (int i = 0; i < 10; i++) {
      assertThat(http.get("/api/hello", "X-API-Key", k).statusCode()).as("request %d", i + 1)
          .isEqualTo(200);
    }
    assertThat(http.get("/api/hello", "X-API-Key", k).statusCode()).isEqualTo(429);
  }

  @Test
  void headers_countDown_inEveryGroup() {
    String k = key("free-");
    HttpResponse<String> first = http.get("/api/hello", "X-API-Key", k);
    HttpResponse<String> second = http.post("/api/hello", "X-API-Key", k);
    assertThat(second.body()).isEqualTo("posted");
    assertThat(first.headers().firstValue("X-RateLimit-Limit")).hasValue("3");
    assertThat(first.headers().firstValue("X-RateLimit-Remaining")).hasValue("2");
    assertThat(second.headers().firstValue("X-RateLimit-Remaining")).hasValue("1");
    assertThat(first.headers().firstValue("RateLimit")).hasValueSatisfying(
        v -> assertThat(v).contains("r=2"));
    assertThat(first.headers().firstValue("RateLimit-Policy")).isPresent();
  }

  @Test
  void methodNotListed_isNotLimited() {
    String k = key("free-");
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = http.send("DELETE", "/api/hello", "X-API-Key", k);
      assertThat(r.statusCode()).isNotEqualTo(429);
      assertThat(r.headers().firstValue("X-RateLimit-Limit")).isEmpty();
    }
  }

  @Test
  void exemptPaths_andPathsWithoutRule_passUntouched() {
    for (int i = 0; i < 6; i++) {
      HttpResponse<String> open = http.get("/open/hello");
      assertThat(open.statusCode()).isEqualTo(200);
      assertThat(open.headers().firstValue("X-RateLimit-Limit")).isEmpty();
      assertThat(open.headers().firstValue("RateLimit")).isEmpty();
      assertThat(http.get("/other/hello").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void missingKey_isRefused403() {
    HttpResponse<String> r = http.get("/api/hello");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
  }

  @Test
  void shadowRule_refusesNothing() {
    String k = key("shadow-");
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> r = http.get("/shadow/hello", "X-API-Key", k);
      assertThat(r.statusCode()).as("request %d", i + 1).isEqualTo(200);
      assertThat(r.body()).isEqualTo("hello");
    }
  }

  @Test
  void chargeOn401_countsFailedLoginsOnly() {
    String k = key("login-");
    for (int i = 0; i < 5; i++) {
      assertThat(http.post("/login", "X-API-Key", k, "X-Password", "secret").statusCode())
          .as("successful login %d", i + 1).isEqualTo(200);
    }
    assertThat(http.post("/login", "X-API-Key", k).statusCode()).isEqualTo(401);
    assertThat(http.post("/login", "X-API-Key", k).statusCode()).isEqualTo(401);
    // two failures spent the two permits: now even the right password waits
    assertThat(http.post("/login", "X-API-Key", k, "X-Password", "secret").statusCode())
        .isEqualTo(429);
  }
}
