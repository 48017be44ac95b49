package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.RateLimiter;
import dev.sluice.http.HttpLimiterTest.Req;
import org.junit.jupiter.api.Test;

/**
 * Shadow rules: decide and take as if enforcing, let the would-be refusals through, recorded;
 * no headers by default; all-or-nothing holds for the enforced rules.
 */
class ShadowRuleTest {

  private static final Req REQ = Req.get("/api/x");

  @Test
  void shadowRule_overLimit_passesRecordedWithoutHeaders() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("trial", Limit.perHour(2)).shadow(true).build()).build()) {
      assertThat(limiter.rules().get(0).shadow()).isTrue();
      for (int i = 0; i < 2; i++) {
        Verdict v = limiter.decide(REQ);
        assertThat(v.allowed()).isTrue();
        assertThat(v.shadowRefusals()).isEmpty();
        assertThat(v.headerCount()).as("no headers for a shadow rule").isZero();
      }
      for (int i = 0; i < 3; i++) {
        Verdict over = limiter.decide(REQ);
        assertThat(over.allowed()).as("over the limit, let through").isTrue();
        assertThat(over.shadowRefusals()).containsExactly("trial");
        assertThat(over.decision().orElseThrow().wouldRefuse()).isTrue();
        assertThat(over.headerCount()).isZero();
      }
      assertThat(limiter.availablePermits(REQ, "trial")).as("took as if enforcing").hasValue(0);
    }
  }

  @Test
  void shadowRule_headersOn_describesItsWouldBeState() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("trial", Limit.perHour(1)).shadow(true).headers(true).build())
        .build()) {
      assertThat(limiter.decide(REQ).header("X-RateLimit-Remaining")).isEqualTo("0");
      Verdict over = limiter.decide(REQ);
      assertThat(over.allowed()).isTrue();
      assertThat(over.header("X-RateLimit-Limit")).isEqualTo("1");
      assertThat(over.header("RateLimit-Policy")).isEqualTo("\"trial\";q=1;w=3600");
      assertThat(over.header("Retry-After")).as("not refused: no Retry-After").isNull();
    }
  }

  /** A shadow refusal refuses nothing and gives back nothing the enforced rule took. */
  @Test
  void shadowAndEnforced_shadowWouldRefuse_enforcedKeepsItsCharge() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("enforced", Limit.perHour(5)).build())
        .rule(Rule.builder("trial", Limit.perHour(2)).shadow(true).build())
        .build()) {
      for (int i = 1; i <= 5; i++) {
        Verdict v = limiter.decide(REQ);
        assertThat(v.allowed()).as("request %d", i).isTrue();
        assertThat(v.shadowRefusals()).as("request %d", i)
            .isEqualTo(i > 2 ? java.util.List.of("trial") : java.util.List.of());
        assertThat(v.header("X-RateLimit-Remaining")).as("the enforced rule's count")
            .isEqualTo(Integer.toString(5 - i));
        assertThat(v.header("RateLimit-Policy")).isEqualTo("\"enforced\";q=5;w=3600");
        assertThat(v.decision().orElseThrow().wouldRefuse()).as("binding: the enforced rule")
            .isFalse();
      }
      Verdict refused = limiter.decide(REQ);
      assertThat(refused.allowed()).isFalse();
      assertThat(refused.rejection().orElseThrow().rules()).containsExactly("enforced");
      assertThat(refused.shadowRefusals()).containsExactly("trial");
    }
  }

  /** An enforced refusal gives back the shadow rule's take, as it does every rule's. */
  @Test
  void shadowAndEnforced_enforcedRefuses_shadowTakeGivenBack() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("enforced", Limit.perHour(1)).build())
        .rule(Rule.builder("trial", Limit.perHour(3)).shadow(true).build())
        .build()) {
      assertThat(limiter.decide(REQ).allowed()).isTrue();
      for (int i = 0; i < 3; i++) {
        Verdict refused = limiter.decide(REQ);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.shadowRefusals()).isEmpty();
      }
      assertThat(limiter.availablePermits(REQ, "trial"))
          .as("the refused requests took nothing from the shadow rule").hasValue(2);
      assertThat(limiter.availablePermits(REQ, "enforced")).hasValue(0);
    }
  }

  @Test
  void shadowRuleOverLimiter_followsTheLimitersMode() {
    ManualTicker t = new ManualTicker();
    RateLimiter<String> shadow = RateLimiter.builder(Limit.perHour(1)).name("s").ticker(t)
        .shadow(true).build();
    RateLimiter<String> enforcing = RateLimiter.builder(Limit.perHour(1)).name("e").ticker(t)
        .build();
    try (shadow; enforcing; HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder(shadow).build()).build()) {
      assertThat(limiter.rules().get(0).shadow()).isTrue();
      limiter.decide(REQ);
      Verdict over = limiter.decide(REQ);
      assertThat(over.allowed()).isTrue();
      assertThat(over.shadowRefusals()).containsExactly("s");
      assertThat(over.headerCount()).isZero();
      assertThatThrownBy(() -> Rule.builder(enforcing).shadow(true))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("limiter e, which is not in shadow mode");
      assertThatThrownBy(() -> Rule.builder(shadow).shadow(false))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("limiter s, which is in shadow mode");
    }
  }

  @Test
  void enforcedRuleWithoutHeaders_otherRuleDescribed() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("quiet", Limit.perHour(1)).headers(false).build())
        .rule(Rule.builder("loud", Limit.perHour(10)).build())
        .build()) {
      Verdict v = limiter.decide(REQ);
      assertThat(v.header("X-RateLimit-Remaining")).isEqualTo("9");
      assertThat(v.header("RateLimit-Policy")).isEqualTo("\"loud\";q=10;w=3600");
      Verdict refused = limiter.decide(REQ);
      assertThat(refused.allowed()).as("a rule left out of the headers still enforces")
          .isFalse();
      assertThat(refused.rejection().orElseThrow().status()).isEqualTo(429);
    }
  }
}
