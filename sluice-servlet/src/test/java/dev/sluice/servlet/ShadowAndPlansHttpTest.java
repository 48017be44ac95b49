package dev.sluice.servlet;

import static dev.sluice.servlet.HeadersTimelineTest.header;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.Plans;
import dev.sluice.Policy;
import dev.sluice.http.KeyResolver;
import dev.sluice.http.Rule;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Shadow rules and rules over plans, in a real Jetty with a real client. */
class ShadowAndPlansHttpTest {

  /** {@code /seen}: answers the shadow refusals the filter published, or {@code none}. */
  static final class SeenServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      Object seen = req.getAttribute(RateLimitFilter.SHADOW_REFUSALS_ATTRIBUTE);
      resp.getWriter().write(seen == null ? "none" : seen.toString());
    }
  }

  private static TestServer start(RateLimitFilter filter) throws Exception {
    return TestServer.start(Map.of("/seen", new SeenServlet()), filter);
  }

  /** (d) Over-limit requests pass with 200, no rate-limit headers, the would-refuse recorded. */
  @Test
  void shadowRule_overLimit_passesWithoutHeaders_recorded() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder().key(KeyResolver.header("X-User"))
        .rule(Rule.builder("trial", Limit.perHour(2)).paths("/seen").shadow(true).build())
        .ticker(new ManualTicker()).build();
    try (filter; TestServer server = start(filter)) {
      for (int i = 1; i <= 5; i++) {
        HttpResponse<String> r = server.get("/seen", "X-User", "ann");
        assertThat(r.statusCode()).as("request %d", i).isEqualTo(200);
        assertThat(r.body()).as("request %d", i).isEqualTo(i > 2 ? "[trial]" : "none");
        for (String h : new String[] {"X-RateLimit-Limit", "X-RateLimit-Remaining",
            "RateLimit", "RateLimit-Policy", "Retry-After"}) {
          assertThat(header(r, h)).as("%s on request %d", h, i).isEqualTo("-");
        }
      }
      assertThat(filter.limiter().availablePermits(ChargeOnHttpTest.user("ann"), "trial"))
          .as("decided and took as if enforcing").hasValue(0);
    }
  }

  /**
   * (d) With an enforced rule too: the shadow rule's would-be refusal refuses nothing and
   * gives back nothing of the enforced rule's; the enforced rule's refusal refuses, and takes
   * nothing from the shadow rule.
   */
  @Test
  void shadowBesideEnforced_allOrNothingHoldsForTheEnforcedRule() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder().key(KeyResolver.header("X-User"))
        .rule(Rule.builder("enforced", Limit.perHour(3)).paths("/seen").build())
        .rule(Rule.builder("trial", Limit.perHour(1)).paths("/seen").shadow(true).build())
        .ticker(new ManualTicker()).build();
    try (filter; TestServer server = start(filter)) {
      for (int i = 1; i <= 3; i++) {
        HttpResponse<String> r = server.get("/seen", "X-User", "bob");
        assertThat(r.statusCode()).as("request %d", i).isEqualTo(200);
        assertThat(r.body()).as("request %d", i).isEqualTo(i > 1 ? "[trial]" : "none");
        assertThat(header(r, "X-RateLimit-Remaining")).as("the enforced rule, charged")
            .isEqualTo(Integer.toString(3 - i));
        assertThat(header(r, "RateLimit-Policy")).isEqualTo("\"enforced\";q=3;w=3600");
      }
      HttpResponse<String> refused = server.get("/seen", "X-User", "bob");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.body()).contains("enforced").doesNotContain("trial");
      assertThat(filter.limiter().availablePermits(ChargeOnHttpTest.user("bob"), "enforced"))
          .hasValue(0);
    }
    RateLimitFilter second = RateLimitFilter.builder().key(KeyResolver.header("X-User"))
        .rule(Rule.builder("enforced", Limit.perHour(1)).paths("/seen").build())
        .rule(Rule.builder("trial", Limit.perHour(3)).paths("/seen").shadow(true).build())
        .ticker(new ManualTicker()).build();
    try (second; TestServer server = start(second)) {
      assertThat(server.get("/seen", "X-User", "cy").statusCode()).isEqualTo(200);
      for (int i = 0; i < 3; i++) {
        assertThat(server.get("/seen", "X-User", "cy").statusCode()).isEqualTo(429);
      }
      assertThat(second.limiter().availablePermits(ChargeOnHttpTest.user("cy"), "trial"))
          .as("refused requests took nothing from the shadow rule").hasValue(2);
    }
  }

  /** (e) Plans per rule: free refused after 2, pro after 5; plans.update raises a plan live. */
  @Test
  void plansPerRule_freeAndPro_updatedLive() throws Exception {
    Plans<String> plans = Plans.<String>builder()
        .plan("free", Policy.of(Limit.perHour(2)))
        .plan("pro", Policy.of(Limit.perHour(5)))
        .assign(material -> material.startsWith("header:x-api-key:pro-") ? "pro" : "free")
        .build();
    RateLimitFilter filter = RateLimitFilter.builder().key(KeyResolver.header("X-Api-Key"))
        .rule(Rule.builder("api", plans).paths("/api/**").build())
        .ticker(new ManualTicker()).build();
    try (filter; TestServer server = TestServer.start(filter)) {
      assertThat(admitted(server, "free-1")).isEqualTo(2);
      assertThat(admitted(server, "pro-1")).isEqualTo(5);
      HttpResponse<String> pro = server.get("/api/x", "X-Api-Key", "pro-2");
      assertThat(header(pro, "X-RateLimit-Limit")).isEqualTo("5");
      assertThat(header(pro, "RateLimit-Policy")).isEqualTo("\"api\";q=5;w=3600");

      plans.update("free", Policy.of(Limit.perHour(4)));
      HttpResponse<String> raised = server.get("/api/x", "X-Api-Key", "free-2");
      assertThat(raised.statusCode()).isEqualTo(200);
      assertThat(header(raised, "X-RateLimit-Limit")).isEqualTo("4");
      assertThat(header(raised, "X-RateLimit-Remaining")).isEqualTo("3");
      assertThat(admitted(server, "free-2")).as("the rest of the raised plan").isEqualTo(3);
      assertThat(server.get("/api/x", "X-Api-Key", "free-1").statusCode())
          .as("an exhausted key keeps its 0 permits (carry-over)").isEqualTo(429);
    }
  }

  /** Requests admitted for {@code key} until the first refusal. */
  private static int admitted(TestServer server, String key) throws Exception {
    int n = 0;
    while (true) {
      int status = server.get("/api/x", "X-Api-Key", key).statusCode();
      if (status == 429) {
        return n;
      }
      assertThat(status).isEqualTo(200);
      if (++n > 100) {
        throw new AssertionError("never refused");
      }
    }
  }
}
