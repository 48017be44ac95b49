package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.Plans;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.http.HttpLimiterTest.Req;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** Rules over plans: each key under its plan's policy, assigned by key material, live updates. */
class PlanRuleTest {

  private static final KeyResolver API_KEY = KeyResolver.header("X-Api-Key");

  private static Req key(String k) {
    return Req.get("/api/x").header("X-Api-Key", k);
  }

  private static Plans<String> plans(Set<String> pro) {
    return Plans.<String>builder()
        .plan("free", Policy.of(Limit.perHour(2)))
        .plan("pro", Policy.of(Limit.perHour(5)))
        .assign(material -> pro.contains(material) ? "pro" : "free")
        .build();
  }

  private static int admittedInARow(HttpLimiter limiter, Req r) {
    int n = 0;
    while (limiter.decide(r).allowed()) {
      n++;
      if (n > 1000) {
        throw new AssertionError("never refused");
      }
    }
    return n;
  }

  @Test
  void plans_eachKeyUnderItsPlan_headersDescribeIt() {
    Plans<String> plans = plans(Set.of("header:x-api-key:pro-1", "header:x-api-key:pro-2"));
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(new ManualTicker()).key(API_KEY)
        .rule(Rule.builder("api", plans).build()).build()) {
      Verdict free = limiter.decide(key("free-1"));
      assertThat(free.header("X-RateLimit-Limit")).isEqualTo("2");
      assertThat(free.header("RateLimit-Policy")).isEqualTo("\"api\";q=2;w=3600");
      Verdict pro = limiter.decide(key("pro-1"));
      assertThat(pro.header("X-RateLimit-Limit")).isEqualTo("5");
      assertThat(pro.header("RateLimit-Policy")).isEqualTo("\"api\";q=5;w=3600");
      assertThat(pro.header("RateLimit")).isEqualTo("\"api\";r=4;t=720");
      assertThat(admittedInARow(limiter, key("free-1"))).isEqualTo(1);
      assertThat(admittedInARow(limiter, key("pro-1"))).isEqualTo(4);
      assertThat(admittedInARow(limiter, key("free-2"))).isEqualTo(2);
      assertThat(limiter.availablePermits(key("pro-2"), "api")).hasValue(5);
      assertThat(limiter.rules().get(0).policy()).as("the first plan's")
          .isEqualTo(Policy.of(Limit.perHour(2)));
    }
  }

  @Test
  void plansUpdate_raisesAPlanLive_keysKeepTheirPermits() {
    ManualTicker t = new ManualTicker();
    Plans<String> plans = plans(Set.of());
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t).key(API_KEY)
        .rule(Rule.builder("api", plans).build()).build()) {
      assertThat(admittedInARow(limiter, key("a"))).isEqualTo(2);
      plans.update("free", Policy.of(Limit.perHour(4)));
      assertThat(limiter.rules().get(0).policy()).isEqualTo(Policy.of(Limit.perHour(4)));
      Verdict exhausted = limiter.decide(key("a"));
      assertThat(exhausted.allowed()).as("carry-over: kept its 0 permits").isFalse();
      assertThat(exhausted.header("RateLimit-Policy")).isEqualTo("\"api\";q=4;w=3600");
      assertThat(admittedInARow(limiter, key("b"))).as("a new key, the new capacity")
          .isEqualTo(4);
      t.advance(Duration.ofMinutes(15)); // one permit at the new rate (4 per hour)
      assertThat(admittedInARow(limiter, key("a"))).isEqualTo(1);
    }
  }

  @Test
  void plans_keyUpgraded_keepsWhatItHeld() {
    ManualTicker t = new ManualTicker();
    Set<String> pro = ConcurrentHashMap.newKeySet();
    Plans<String> plans = plans(pro);
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t).key(API_KEY)
        .rule(Rule.builder("api", plans).build()).build()) {
      assertThat(limiter.decide(key("c")).allowed()).isTrue(); // free: 1 left
      pro.add("header:x-api-key:c");
      assertThat(limiter.availablePermits(key("c"), "api")).as("kept 1, capped at 5")
          .hasValue(1);
      t.advance(Duration.ofMinutes(12)); // pro refills one per 12 minutes
      assertThat(admittedInARow(limiter, key("c"))).isEqualTo(2);
    }
  }

  @Test
  void plans_withChargeOn_refundUnderTheKeysPlan() {
    Plans<String> plans = plans(Set.of("header:x-api-key:pro-1"));
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(new ManualTicker()).key(API_KEY)
        .rule(Rule.builder("api", plans).chargeOn(401).build()).build()) {
      for (int i = 0; i < 7; i++) {
        Verdict v = limiter.decide(key("pro-1"));
        assertThat(v.allowed()).isTrue();
        v.complete(200);
      }
      assertThat(limiter.availablePermits(key("pro-1"), "api")).hasValue(5);
    }
  }

  @Test
  void ruleOverLimiter_policyUpdatedLive_headersFollow() {
    ManualTicker t = new ManualTicker();
    RateLimiter<String> l = RateLimiter.builder(Limit.perHour(2)).name("l").ticker(t).build();
    try (l; HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder(l).build()).build()) {
      Verdict before = limiter.decide(Req.get("/x"));
      assertThat(before.header("X-RateLimit-Limit")).isEqualTo("2");
      assertThat(before.header("RateLimit-Policy")).isEqualTo("\"l\";q=2;w=3600");
      l.updatePolicy(Policy.of(Limit.perHour(6)));
      Verdict after = limiter.decide(Req.get("/x"));
      assertThat(after.header("X-RateLimit-Limit")).isEqualTo("6");
      assertThat(after.header("RateLimit-Policy")).isEqualTo("\"l\";q=6;w=3600");
      assertThat(after.header("RateLimit")).isEqualTo("\"l\";r=0;t=3600"); // carry-over: kept its 1, took it
      assertThat(limiter.rules().get(0).policy()).isEqualTo(Policy.of(Limit.perHour(6)));
    }
  }
}
