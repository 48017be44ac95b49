package dev.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;

/** {@code @RateLimited} on a bean's method, in the context {@link MvcLimitsTest} uses. */
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("memory")
class RateLimitedTest {

  @Value("${local.server.port}")
  int port;

  @Autowired
  Reports reports;

  @Test
  void directCalls_followTheRulesPlan_thenThrow() {
    assertThat(AopUtils.isAopProxy(reports)).isTrue();
    String free = "free-" + UUID.randomUUID();
    for (int i = 0; i < 3; i++) {
      assertThat(reports.build(free)).isEqualTo("report for " + free);
    }
    assertThatThrownBy(() -> reports.build(free)).isInstanceOf(RateLimitedException.class)
        .satisfies(e -> assertThat(((RateLimitedException) e).rule()).isEqualTo("api"))
        .satisfies(e -> assertThat(((RateLimitedException) e).retryAfter()).isPresent());
    // the plan expression sees the call's key: pro- keys get 10
    String pro = "pro-" + UUID.randomUUID();
    for (int i = 0; i < 10; i++) {
      reports.build(pro);
    }
    assertThatThrownBy(() -> reports.build(pro)).isInstanceOf(RateLimitedException.class);
    // a method without the annotation is never limited
    for (int i = 0; i < 5; i++) {
      assertThat(reports.free(free)).isEqualTo("free for " + free);
    }
  }

  @Test
  void refusedCall_inMvc_is429Problem() {
    Http http = new Http(port);
    String c = "free-" + UUID.randomUUID();
    for (int i = 0; i < 3; i++) {
      assertThat(http.get("/reports/" + c).statusCode()).isEqualTo(200);
    }
    HttpResponse<String> refused = http.get("/reports/" + c);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(refused.body()).contains("\"status\":429").contains("api");
    assertThat(Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow()))
        .isBetween(1700L, 1800L);
  }
}
