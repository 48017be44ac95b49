package dev.sluice.spring.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.sluice.gateway.SluiceRateLimiter;
import dev.sluice.spring.gateway.GatewayApp.Backend;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The starter in a Gateway application: the routes' {@code sluiceRateLimiter} is built from
 * {@code sluice.*} (plans, headers, failure mode, store), and the starter's WebFilter limits
 * {@code sluice.rules} on the same gateway.
 */
class GatewayStarterTest {

  private static final String[] SLUICE = {
      "sluice.plans.pro[0].permits=3", "sluice.plans.pro[0].per=1h",
      "sluice.plans.pro[0].burst=5",
      "sluice.headers=xratelimit,retry-after",
      "sluice.failure-mode=closed",
      "sluice.rules[0].name=api", "sluice.rules[0].paths=/api/**",
      "sluice.rules[0].key=header:X-Client",
      "sluice.rules[0].limits[0].permits=1", "sluice.rules[0].limits[0].per=1h",
      "sluice.rules[0].limits[0].burst=2"};

  @Test
  void route_takesThePlanOfSluicePlans_andTheStartersHeaders() {
    try (Backend backend = new Backend();
        ConfigurableApplicationContext ctx = GatewayApp.start(backend, SLUICE)) {
      assertThat(ctx.getBean("sluiceRateLimiter")).isInstanceOf(SluiceRateLimiter.class);
      List<Integer> statuses = new ArrayList<>();
      HttpResponse<String> last = null;
      for (int i = 0; i < 6; i++) {
        last = GatewayApp.get(ctx, "/limited/x", "alice");
        statuses.add(last.statusCode());
      }
      assertThat(statuses).as("burst 5 of plan pro, then refused")
          .containsExactly(200, 200, 200, 200, 200, 429);
      assertThat(backend.hits.get()).isEqualTo(5);
      assertThat(last.headers().firstValue("Retry-After")).as("3 per hour: one per 20 min")
          .hasValue("1200");
      assertThat(last.headers().firstValue("X-RateLimit-Remaining")).hasValue("0");
      assertThat(last.headers().firstValue("RateLimit-Policy"))
          .as("sluice.headers leaves out ietf").isEmpty();
      assertThat(GatewayApp.get(ctx, "/limited/x", "bob").statusCode())
          .as("another client, its own bucket").isEqualTo(200);
    }
  }

  @Test
  void rulesOfTheStarter_limitTheGatewaysOtherPaths() {
    try (Backend backend = new Backend();
        ConfigurableApplicationContext ctx = GatewayApp.start(backend, SLUICE)) {
      List<Integer> statuses = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        statuses.add(GatewayApp.get(ctx, "/api/x", "carol").statusCode());
      }
      assertThat(statuses).containsExactly(200, 200, 429);
      assertThat(backend.hits.get()).isEqualTo(2);
    }
  }

  @Test
  void badPlan_stopsTheGateway_namingThePropertyAndTheBound() {
    try (Backend backend = new Backend()) {
      Throwable failure = catchThrowable(() -> GatewayApp.start(backend,
          "sluice.plans.pro[0].permits=3", "sluice.plans.pro[0].per=1h",
          "sluice.plans.pro[0].burst=-1").close());
      assertThat(failure).isNotNull();
      List<String> messages = new ArrayList<>();
      for (Throwable c = failure; c != null; c = c.getCause()) {
        messages.add(String.valueOf(c.getMessage()));
      }
      assertThat(messages).anySatisfy(m -> assertThat(m)
          .contains("sluice.plans.pro[0].burst must be from 1 to 10^15, was -1"));
    }
  }

  @Test
  void sluiceDisabled_leavesTheGatewaysOwnConfiguration() {
    try (Backend backend = new Backend();
        ConfigurableApplicationContext ctx = GatewayApp.start(backend, "sluice.enabled=false",
            "sluice.plans.pro[0].permits=3", "sluice.plans.pro[0].per=1h",
            "sluice.plans.pro[0].burst=5")) {
      HttpResponse<String> first = GatewayApp.get(ctx, "/limited/x", "dave");
      assertThat(first.statusCode()).isEqualTo(200);
      assertThat(first.headers().firstValue("RateLimit-Policy"))
          .as("sluice-gateway's defaults: all three header groups").isPresent();
    }
  }

  /** A gateway whose only limits are its routes: no sluice.rules, no WebFilter, routes limited. */
  @Test
  void routesOnly_withoutRules_starts() {
    try (Backend backend = new Backend();
        ConfigurableApplicationContext ctx = GatewayApp.start(backend,
            "sluice.plans.pro[0].permits=3", "sluice.plans.pro[0].per=1h",
            "sluice.plans.pro[0].burst=2")) {
      assertThat(ctx.getBeansOfType(dev.sluice.webflux.RateLimitWebFilter.class)).isEmpty();
      List<Integer> statuses = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        statuses.add(GatewayApp.get(ctx, "/limited/x", "frank").statusCode());
      }
      statuses.add(GatewayApp.get(ctx, "/api/x", "frank").statusCode());
      assertThat(statuses).as("burst 2 on the route; /api not limited")
          .containsExactly(200, 200, 429, 200);
    }
  }
}
