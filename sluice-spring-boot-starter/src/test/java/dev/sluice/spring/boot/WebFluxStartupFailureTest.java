package dev.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** A reactive application whose rule waits does not start: the WebFlux filter does not queue. */
class WebFluxStartupFailureTest {

  @Test
    void maxWait_onWebFlux_stopsTheApplication_namingTheProperty() {
    Throwable failure = catchThrowable(() -> start(
        "server.port=0",
        "sluice.rules[0].name=api", "sluice.rules[0].key=ip",
        "sluice.rules[0].limits[0].permits=1", "sluice.rules[0].limits[0].per=1s",
        "sluice.rules[1].name=queued", "sluice.rules[1].key=ip",
        "sluice.rules[1].limits[0].permits=1", "sluice.rules[1].limits[0].per=1s",
        "sluice.rules[1].max-wait=2s"));
    assertThat(failure).as("the application must not start").isNotNull();
    assertThat(messages(failure)).anySatisfy(m -> assertThat(m).contains(
        "sluice.rules[1].max-wait must be 0s in a reactive application (the WebFlux filter does"
            + " not queue requests yet), was PT2S"));
  }

  @Test
  void withoutMaxWait_theReactiveApplicationStarts() {
    try (ConfigurableApplicationContext ctx = run("server.port=0",
        "sluice.rules[0].name=api", "sluice.rules[0].key=ip",
        "sluice.rules[0].limits[0].permits=1", "sluice.rules[0].limits[0].per=1s",
        "sluice.rules[0].max-wait=0s")) {
      assertThat(ctx.getBean(dev.sluice.webflux.RateLimitWebFilter.class).limiter().rules())
          .hasSize(1);
    }
  }

  private static void start(String... properties) {
    run(properties).close();
  }

  private static ConfigurableApplicationContext run(String... properties) {
    return new SpringApplicationBuilder(ReactiveTestApp.class)
        .web(WebApplicationType.REACTIVE).properties(properties).run();
  }

  private static List<String> messages(Throwable t) {
    List<String> out = new ArrayList<>();
    for (Throwable c = t; c != null; c = c.getCause()) {
      out.add(String.valueOf(c.getMessage()));
    }
    return out;
  }
}
