package dev.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.webflux.RateLimitWebFilter;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.ActiveProfiles;

/**
 * A reactive application (Netty) on a random port, limited by {@code application-reactive.yml}
 * through the starter's WebFlux filter, spoken to over HTTP. Each test uses keys of its own.
 */
@SpringBootTest(classes = ReactiveTestApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "spring.main.web-application-type=reactive")
@ActiveProfiles("reactive")
class WebFluxLimitsTest {

  @Value("${local.server.port}")
  int port;

  @Autowired
  ApplicationContext context;

  Http http;

  @BeforeEach
  void client() {
    http = new Http(port);
  }

  static String key(String prefix) {
    return prefix + UUID.randomUUID();
  }

  @Test
  void theWebFilterIsRegistered_overTheStartersLimiter_withTheConfiguredOrder() {
    assertThat(((ConfigurableApplicationContext) context).getBeanFactory()
        .getBeanNamesForType(org.springframework.boot.web.servlet.FilterRegistrationBean.class))
        .as("no servlet filter in a reactive application").isEmpty();
    RateLimitWebFilter filter = context.getBean(RateLimitWebFilter.class);
    assertThat(filter.limiter()).isSameAs(context.getBean(Sluice.class).httpLimiter());
    assertThat(filter.getOrder()).isEqualTo(SluiceProperties.Filter.DEFAULT_ORDER);
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
    long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retryAfter).isBetween(1700L, 1800L);
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
    assertThat(http.post("/login", "X-API-Key", k, "X-Password", "secret").statusCode())
        .isEqualTo(429);
  }

  /** {@code key: principal}: the exchange's principal, given asynchronously by a filter before. */
  @Test
  void principalKey_isTheExchangesPrincipal_eachUserHisOwnBucket() {
    String alice = key("alice-");
    String bob = key("bob-");
    assertThat(http.get("/me/hello", "X-User", alice).statusCode()).isEqualTo(200);
    assertThat(http.get("/me/hello", "X-User", alice).statusCode()).isEqualTo(200);
    assertThat(http.get("/me/hello", "X-User", alice).statusCode()).isEqualTo(429);
    assertThat(http.get("/me/hello", "X-User", bob).statusCode()).as("bob's own bucket")
        .isEqualTo(200);
    assertThat(http.get("/me/hello").statusCode()).as("no principal: no key").isEqualTo(403);
  }

  @Test
  void actuatorEndpoint_listsRulesPlansStoreAndKeys() {
    http.get("/api/hello", "X-API-Key", key("free-"));
    HttpResponse<String> r = http.get("/actuator/sluice");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .contains("\"store\":\"memory\"")
        .contains("\"failureMode\":\"local\"")
        .contains("\"free\":[{\"permits\":2,\"per\":\"PT1H\",\"burst\":3},"
            + "{\"permits\":1000,\"per\":\"PT24H\",\"burst\":1000}]")
        .contains("\"name\":\"shadowed\",\"shadow\":true")
        .contains("\"name\":\"me\"")
        .contains("\"reachable\":true")
        .containsPattern("\"name\":\"api\",\"shadow\":false,\"plans\":\\{.*?\\},\"keys\":[1-9]");
  }

  @Test
  void health_showsTheStoreUp() {
    HttpResponse<String> r = http.get("/actuator/health/sluice");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"status\":\"UP\"").contains("\"store\":\"memory\"");
  }
}
