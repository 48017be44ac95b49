package dev.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.cloud.context.environment.EnvironmentChangeEvent;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;

/** Live changes on WebFlux: the filter decides with the reconfigured limits, buckets keep state. */
@SpringBootTest(classes = ReactiveTestApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"spring.main.web-application-type=reactive", "sluice.filter.order=-91"})
@ActiveProfiles("reactive")
@DirtiesContext
class WebFluxLiveReconfigurationTest {

  @Value("${local.server.port}")
  int port;

  @Autowired
  ConfigurableApplicationContext context;

  @Autowired
  Sluice sluice;

  @Autowired
  dev.sluice.webflux.RateLimitWebFilter filter;

  private void change(Map<String, Object> properties) {
    context.getEnvironment().getPropertySources()
        .addFirst(new MapPropertySource("changed-" + UUID.randomUUID(), properties));
    context.publishEvent(new EnvironmentChangeEvent(context, properties.keySet()));
  }

  private static Map<String, Object> freePlan(long burst) {
    Map<String, Object> m = new HashMap<>();
    m.put("sluice.plans.free[0].permits", "2");
    m.put("sluice.plans.free[0].per", "1h");
    m.put("sluice.plans.free[0].burst", String.valueOf(burst));
    m.put("sluice.plans.free[1].permits", "1000");
    m.put("sluice.plans.free[1].per", "1d");
    return m;
  }

  @Test
  void burstRaised_keyKeepsItsPermits_newKeysGetTheNewBurst() {
    assertThat(filter.getOrder()).as("sluice.filter.order").isEqualTo(-91);
    Http http = new Http(port);
    String k = "free-" + UUID.randomUUID();
    assertThat(http.get("/api/hello", "X-API-Key", k).statusCode()).isEqualTo(200);
    assertThat(http.get("/api/hello", "X-API-Key", k).statusCode()).isEqualTo(200);
    // k holds 1 of 3

    change(freePlan(5));
    assertThat(sluice.pendingChanges()).isEmpty();

    HttpResponse<String> last = http.get("/api/hello", "X-API-Key", k);
    assertThat(last.statusCode()).isEqualTo(200);
    assertThat(last.headers().firstValue("X-RateLimit-Limit")).hasValue("5");
    assertThat(last.headers().firstValue("X-RateLimit-Remaining")).hasValue("0");
    assertThat(http.get("/api/hello", "X-API-Key", k).statusCode()).isEqualTo(429);

    String fresh = "free-" + UUID.randomUUID();
    for (int i = 0; i < 5; i++) {
      assertThat(http.get("/api/hello", "X-API-Key", fresh).statusCode()).as("request %d", i + 1)
          .isEqualTo(200);
    }
    assertThat(http.get("/api/hello", "X-API-Key", fresh).statusCode()).isEqualTo(429);
    assertThat(http.get("/actuator/sluice").body()).contains("\"burst\":5");
  }
}
