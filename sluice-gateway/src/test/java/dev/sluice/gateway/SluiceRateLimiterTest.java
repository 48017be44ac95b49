package dev.sluice.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.FailureMode;
import dev.sluice.InMemoryStore;
import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import dev.sluice.spi.contract.SwitchableStoreFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.cloud.gateway.filter.ratelimit.RateLimiter.Response;

/** The limiter on its own, without Gateway around it: configurations, failure modes, keys. */
class SluiceRateLimiterTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  private static SluiceRateLimiter.Config limit(long permits, Duration per, long burst) {
    return new SluiceRateLimiter.Config().setPermits(permits).setPer(per).setBurst(burst);
  }

  private static Response decide(SluiceRateLimiter limiter, String route, String id) {
    return limiter.isAllowed(route, id).block(WAIT);
  }

  @Test
  void failureModes_storeDown_openAllowsClosedRefusesLocalDecides() {
    for (FailureMode mode : FailureMode.values()) {
      SwitchableStoreFactory store = SwitchableStoreFactory.create();
      try (SluiceRateLimiter limiter = SluiceRateLimiter.builder(null).store(store)
          .ticker(new ManualTicker()).failureMode(mode).build()) {
        limiter.getConfig().put("r", limit(1, Duration.ofHours(1), 1));
        assertThat(decide(limiter, "r", "k").isAllowed()).isTrue();
        store.down().set(true);
        Response r = decide(limiter, "r", "k");
        switch (mode) {
          case OPEN -> {
            assertThat(r.isAllowed()).as("OPEN").isTrue();
            assertThat(r.getHeaders()).as("OPEN: no count behind it").isEmpty();
          }
          case CLOSED -> {
            assertThat(r.isAllowed()).as("CLOSED never becomes allowed").isFalse();
            assertThat(r.getHeaders()).as("CLOSED: no count behind it").isEmpty();
          }
          case LOCAL -> {
            assertThat(r.isAllowed()).as("LOCAL: this node's fresh bucket").isTrue();
            assertThat(r.getHeaders()).containsEntry("X-RateLimit-Remaining", "0");
            Response second = decide(limiter, "r", "k");
            assertThat(second.isAllowed()).as("LOCAL enforces the limit").isFalse();
            assertThat(second.getHeaders()).containsEntry("Retry-After", "3600");
          }
          default -> throw new AssertionError(mode);
        }
      }
    }
  }

  /** Routes refreshed with new arguments: the buckets keep their permits (carry-over). */
  @Test
  void configChanged_bucketKeepsItsPermits() {
    try (SluiceRateLimiter limiter = SluiceRateLimiter.builder(null)
        .ticker(new ManualTicker(-7)).build()) {
      limiter.getConfig().put("r", limit(5, Duration.ofHours(1), 5));
      for (int i = 0; i < 3; i++) {
        assertThat(decide(limiter, "r", "k").isAllowed()).isTrue();
      }
      limiter.getConfig().put("r", limit(5, Duration.ofHours(1), 10));
      Response r = decide(limiter, "r", "k");
      assertThat(r.isAllowed()).isTrue();
      assertThat(r.getHeaders()).as("2 carried over, one taken; the new capacity")
          .containsEntry("X-RateLimit-Remaining", "1").containsEntry("X-RateLimit-Limit", "10");
      assertThat(decide(limiter, "r", "k").isAllowed()).isTrue();
      assertThat(decide(limiter, "r", "k").isAllowed()).isFalse();
    }
  }

  /** One store for every route (as Redis is): keys of different routes never meet. */
  @Test
  void sharedStore_routeAndKeyPairsNeverCollide() {
    RateStoreFactory shared = new RateStoreFactory() {
      RateStore<Object> store;

      @Override
      @SuppressWarnings("unchecked")
      public synchronized <K> RateStore<K> create(String name, Policy policy, Ticker ticker) {
        if (store == null) {
          store = InMemoryStore.factory().create(name, policy, ticker);
        }
        return (RateStore<K>) store;
      }
    };
    try (SluiceRateLimiter limiter = SluiceRateLimiter.builder(null).store(shared)
        .ticker(new ManualTicker()).build()) {
      limiter.getConfig().put("a:b", limit(1, Duration.ofHours(1), 1));
      limiter.getConfig().put("a", limit(1, Duration.ofHours(1), 1));
      limiter.getConfig().put("b", limit(1, Duration.ofHours(1), 1));
      assertThat(decide(limiter, "a:b", "c").isAllowed()).isTrue();
      assertThat(decide(limiter, "a", "b:c").isAllowed()).as("another route's bucket").isTrue();
      assertThat(decide(limiter, "a:b", "c").isAllowed()).isFalse();
      assertThat(decide(limiter, "a", "b:c").isAllowed()).isFalse();
      assertThat(decide(limiter, "b", "c").isAllowed()).as("the same key on route b").isTrue();
    }
  }

  @Test
  void defaultFilters_configurationServesRoutesWithoutTheirOwn_bucketPerRoute() {
    try (SluiceRateLimiter limiter = SluiceRateLimiter.builder(null)
        .ticker(new ManualTicker()).build()) {
      limiter.getConfig().put("defaultFilters", limit(1, Duration.ofHours(1), 1));
      assertThat(decide(limiter, "x", "k").isAllowed()).isTrue();
      assertThat(decide(limiter, "x", "k").isAllowed()).isFalse();
      assertThat(decide(limiter, "y", "k").isAllowed()).as("route y's own bucket").isTrue();
    }
  }

  @Test
  void plan_namedPolicy_headersNameTheRoute() {
    try (SluiceRateLimiter limiter = SluiceRateLimiter.builder(null).ticker(new ManualTicker())
        .plan("gold", Policy.of(Limit.perMinute(2), Limit.perHour(3))).build()) {
      limiter.getConfig().put("api v1", new SluiceRateLimiter.Config().setPlan("gold"));
      Response r = decide(limiter, "api v1", "k");
      assertThat(r.getHeaders()).containsEntry("RateLimit-Policy",
          "\"api_v1.1\";q=2;w=60, \"api_v1.2\";q=3;w=3600");
    }
  }

  @Test
  void badConfigurations_refusedNamingRouteValueAndBound() {
    try (SluiceRateLimiter limiter = SluiceRateLimiter.builder(null).ticker(new ManualTicker())
        .plan("gold", Policy.of(Limit.perMinute(2))).build()) {
      Map<SluiceRateLimiter.Config, List<String>> cases = Map.of(
          limit(0, Duration.ofSeconds(1), 0), List.of("route r", "permits (0)", "at least 1"),
          new SluiceRateLimiter.Config().setPermits(5), List.of("per (null)", "positive"),
          limit(5, Duration.ofSeconds(-1), 0), List.of("per (PT-1S)", "positive"),
          limit(5, Duration.ofSeconds(1), -2), List.of("burst (-2)"),
          limit(5, Duration.ofSeconds(1), Limit.MAX_CAPACITY + 1), List.of("route r", "capacity"),
          new SluiceRateLimiter.Config().setPlan("silver"), List.of("plan (silver)", "[gold]"),
          new SluiceRateLimiter.Config().setPlan("gold").setPermits(3), List.of("exclude"),
          limit(5, Duration.ofSeconds(1), 0).setCost(0), List.of("cost (0)", "at least 1"));
      cases.forEach((config, words) -> {
        limiter.getConfig().put("r", config);
        assertThatThrownBy(() -> decide(limiter, "r", "k")).as("%s", config)
            .isInstanceOf(IllegalArgumentException.class)
            .satisfies(e -> assertThat(e.getMessage()).contains(words));
      });
      assertThatThrownBy(() -> decide(limiter, "none", "k"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("route none has no sluice-rate-limiter configuration");
    }
  }

  @Test
  void itemName_routeIdsOutsideTheTokenCharacters_replaced() {
    assertThat(SluiceRateLimiter.itemName("orders-v2.1_x")).isEqualTo("orders-v2.1_x");
    assertThat(SluiceRateLimiter.itemName("a b/\"c\"")).isEqualTo("a_b__c_");
    assertThat(SluiceRateLimiter.itemName("")).isEqualTo("_");
    assertThat(SluiceRateLimiter.itemName("x".repeat(100))).hasSize(64);
  }

  @Test
  void plansFromProperties_parsedOrRefusedWithThePath() {
    assertThat(SluiceGatewayAutoConfiguration.plan("gold", List.of(
        Map.of("permits", "10", "per", "1s", "burst", "20"), Map.of("permits", "1000", "per", "1h"))))
        .isEqualTo(Policy.of(Limit.perSecond(10).withCapacity(20), Limit.perHour(1000)));
    assertThatThrownBy(() -> SluiceGatewayAutoConfiguration.plan("gold",
        List.of(Map.of("permits", "ten", "per", "1s"))))
        .hasMessageContaining("sluice.plans.gold[0].permits (ten) must be a whole number");
    assertThatThrownBy(() -> SluiceGatewayAutoConfiguration.plan("gold",
        List.of(Map.of("permits", "1", "per", "soon"))))
        .hasMessageContaining("sluice.plans.gold[0].per (soon) must be a positive duration");
    assertThatThrownBy(() -> SluiceGatewayAutoConfiguration.plan("gold",
        List.of(Map.of("permits", "1"))))
        .hasMessageContaining("sluice.plans.gold[0].per is missing");
    assertThatThrownBy(() -> SluiceGatewayAutoConfiguration.plan("gold", List.of()))
        .hasMessageContaining("sluice.plans.gold has 0 limits: between 1 and 16");
    assertThatThrownBy(() -> SluiceGatewayAutoConfiguration.failureMode("sometimes"))
        .hasMessageContaining("sluice.gateway.failure-mode (sometimes) must be one of");
    assertThatThrownBy(() -> SluiceGatewayAutoConfiguration.headerGroups(List.of("all")))
        .hasMessageContaining("sluice.gateway.headers (all) must be among");
  }
}
