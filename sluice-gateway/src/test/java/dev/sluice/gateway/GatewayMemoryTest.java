package dev.sluice.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ManualTicker;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The gateway on the in-memory store, over a still {@link ManualTicker} that tests move. */
@SpringBootTest(classes = {GatewayTestApp.class, GatewayMemoryTest.Clock.class},
    webEnvironment = WebEnvironment.RANDOM_PORT)
@DirtiesContext
class GatewayMemoryTest extends GatewayScenarios {

  static final Backend BACKEND = Backend.start();

  /** The in-memory store's clock: the auto-configuration takes a Ticker bean. */
  @TestConfiguration
  static class Clock {
    @Bean
    ManualTicker ticker() {
      return new ManualTicker(Long.MAX_VALUE - Duration.ofDays(1).toNanos());
    }
  }

  @DynamicPropertySource
  static void backendUri(DynamicPropertyRegistry registry) {
    registry.add("backend.uri", BACKEND::uri);
  }

  @AfterAll
  static void stopBackend() {
    BACKEND.close();
  }

  @Autowired
  ManualTicker ticker;

  @Override
  Backend backend() {
    return BACKEND;
  }

  @Override
  long slackSeconds() {
    return 0;
  }

  /** 3 per hour: one permit every 20 minutes, not a nanosecond sooner. */
  @Test
  void refill_onePermitPerInterval_exactToTheNanosecond() {
    String client = newClient();
    for (int i = 0; i < 5; i++) {
      assertThat(get("/limited/t", client).statusCode()).isEqualTo(200);
    }
    HttpResponse<String> refused = get("/limited/t", client);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(header(refused, "Retry-After")).isEqualTo("1200");
    ticker.advance(Duration.ofMinutes(20).minusNanos(1));
    HttpResponse<String> early = get("/limited/t", client);
    assertThat(early.statusCode()).as("1 ns early").isEqualTo(429);
    assertThat(header(early, "Retry-After")).as("1 ns, rounded up").isEqualTo("1");
    ticker.advance(1);
    HttpResponse<String> due = get("/limited/t", client);
    assertThat(due.statusCode()).isEqualTo(200);
    assertThat(header(due, "X-RateLimit-Remaining")).isEqualTo("0");
    assertThat(get("/limited/t", client).statusCode()).as("exactly one refilled").isEqualTo(429);
    ticker.advance(Duration.ofHours(10));
    for (int i = 0; i < 5; i++) {
      assertThat(get("/limited/t", client).statusCode()).as("full again, capped at the burst")
          .isEqualTo(200);
    }
    assertThat(get("/limited/t", client).statusCode()).isEqualTo(429);
    assertThat(BACKEND.hits("/limited/t", client)).isEqualTo(11);
  }

  /** gold's second limit (6 a day) binds once the first (4 an hour) has refilled. */
  @Test
  void plan_allOrNothing_secondLimitBindsAfterFirstRefills() {
    String client = newClient();
    for (int i = 0; i < 4; i++) {
      assertThat(get("/gold/t", client).statusCode()).isEqualTo(200);
    }
    assertThat(get("/gold/t", client).statusCode()).isEqualTo(429);
    ticker.advance(Duration.ofHours(1));
    // the hour refilled the first limit; the day's limit has 6 - 4 + 0.25 permits: 2 whole
    for (int i = 1; i <= 2; i++) {
      HttpResponse<String> r = get("/gold/t", client);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(header(r, "RateLimit")).startsWith("\"gold.2\";r=" + (2 - i) + ";t=");
    }
    HttpResponse<String> refused = get("/gold/t", client);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(header(refused, "X-RateLimit-Limit")).as("the day's limit binds").isEqualTo("6");
    assertThat(header(refused, "Retry-After")).as("0.25 permit had accrued: 3/4 of 4 hours")
        .isEqualTo("10800");
    assertThat(BACKEND.hits("/gold/t", client)).isEqualTo(6);
  }
}
