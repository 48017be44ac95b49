package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link DecisionHeaders} writes what {@link HttpLimiter} writes for a one-rule request: the two
 * are fed the same timeline over the same policy and ticker, and their headers compared.
 */
class DecisionHeadersTest {

  private static List<String> verdictHeaders(Verdict v) {
    List<String> h = new ArrayList<>();
    v.forEachHeader((n, value) -> h.add(n + ": " + value));
    return h;
  }

  private static List<String> decisionHeaders(DecisionHeaders headers, Decision d) {
    List<String> h = new ArrayList<>();
    headers.forEach(d, (n, value) -> h.add(n + ": " + value));
    return h;
  }

  private static void sameAsHttpLimiter(Policy policy, long cost, Set<HeaderGroup> groups,
      long seed) {
    Random random = new Random(seed);
    ManualTicker ticker = new ManualTicker(random.nextLong());
    RateLimiter<String> core = RateLimiter.builder(policy).ticker(ticker).build();
    DecisionHeaders headers = DecisionHeaders.of("api", policy, groups);
    try (core; HttpLimiter http = HttpLimiter.builder().ticker(ticker)
        .headers(groups.toArray(new HeaderGroup[0]))
        .rule(Rule.builder("api", policy).permits(cost).build()).build()) {
      int refused = 0;
      for (int step = 0; step < 200; step++) {
        if (random.nextInt(3) == 0) {
          ticker.advance(random.nextInt(3_000_000) * 1_000L);
        }
        Verdict v = http.decide(HttpLimiterTest.Req.get("/x"));
        Decision d = core.decide("k", cost);
        assertThat(d.allowed()).as("step %d", step).isEqualTo(v.allowed());
        assertThat(decisionHeaders(headers, d)).as("step %d", step)
            .isEqualTo(verdictHeaders(v)).isNotEmpty();
        refused += d.allowed() ? 0 : 1;
      }
      assertThat(refused).as("the timeline reaches refusals").isPositive();
    }
  }

  @Test
  void oneLimit_everyGroup_sameHeadersAsHttpLimiter() {
    sameAsHttpLimiter(Policy.of(Limit.of(3, Duration.ofSeconds(10)).withCapacity(5)), 1,
        EnumSet.allOf(HeaderGroup.class), 1);
  }

  @Test
  void twoLimits_costTwo_sameHeadersAsHttpLimiter() {
    sameAsHttpLimiter(Policy.of(Limit.perSecond(2), Limit.perMinute(7)), 2,
        EnumSet.allOf(HeaderGroup.class), 2);
  }

  @Test
  void fractionalRate_someGroups_sameHeadersAsHttpLimiter() {
    sameAsHttpLimiter(Policy.of(Limit.of(7, Duration.ofSeconds(3))), 1,
        EnumSet.of(HeaderGroup.IETF, HeaderGroup.RETRY_AFTER), 3);
  }

  @Test
  void costAboveCapacity_noRetryAfter() {
    Policy p = Policy.of(Limit.perMinute(2));
    try (RateLimiter<String> core = RateLimiter.builder(p).ticker(new ManualTicker()).build()) {
      Decision d = core.decide("k", 3);
      assertThat(d.allowed()).isFalse();
      assertThat(decisionHeaders(DecisionHeaders.of("r", p, EnumSet.allOf(HeaderGroup.class)), d))
          .containsExactly("X-RateLimit-Limit: 2", "X-RateLimit-Remaining: 2",
              "X-RateLimit-Reset: 0", "RateLimit-Policy: \"r\";q=2;w=60", "RateLimit: \"r\";r=2;t=0");
    }
  }

  @Test
  void badName_refusedNamingTheBound() {
    assertThatThrownBy(() -> DecisionHeaders.of("a b", Policy.of(Limit.perSecond(1)),
        EnumSet.allOf(HeaderGroup.class)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"a b\"").hasMessageContaining("1 to 64 characters");
  }
}
