package dev.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** A bad value stops the application at startup with a message naming the property and bound. */
class StartupFailureTest {

  private static final String RULE = "sluice.rules[0].name=api,sluice.rules[0].key=ip,";

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "sluice.plans.free[0].permits=2,sluice.plans.free[0].per=1s,sluice.plans.free[0].burst=-1,"
          + RULE + "sluice.rules[0].plan=free"
          + "|sluice.plans.free[0].burst must be from 1 to 10^15, was -1",
      "sluice.plans.free[0].permits=0,sluice.plans.free[0].per=1s," + RULE
          + "sluice.rules[0].plan=free|sluice.plans.free[0].permits must be from 1 to 10^15, was 0",
      "sluice.plans.free[0].permits=1,sluice.plans.free[0].per=0s," + RULE
          + "sluice.rules[0].plan=free|sluice.plans.free[0].per must be a positive duration, was PT0S",
      RULE + "sluice.rules[0].plan=gold,sluice.plans.free[0].permits=1,sluice.plans.free[0].per=1s"
          + "|sluice.rules[0].plan must be one of sluice.plans [free] or spel:EXPRESSION, was \"gold\"",
      "sluice.rules[0].name=api,sluice.rules[0].key=cookie,sluice.rules[0].limits[0].permits=1,"
          + "sluice.rules[0].limits[0].per=1s|sluice.rules[0].key must be ip, header:NAME, bearer,"
          + " principal or spel:EXPRESSION, was \"cookie\"",
      RULE + "sluice.rules[0].limits[0].permits=2000000000,sluice.rules[0].limits[0].per=1ns"
          + "|sluice.rules[0].limits[0]: rate (2000000000 per PT0.000000001S) exceeds the maximum",
      RULE + "sluice.rules[0].limits[0].permits=1,sluice.rules[0].limits[0].per=1s,"
          + "sluice.rules[0].max-wait=-1s|sluice.rules[0].max-wait must be at least 0s, was PT-1S",
      RULE + "sluice.rules[0].limits[0].permits=1,sluice.rules[0].limits[0].per=1s,"
          + "sluice.rules[0].charge-on[0]=700|sluice.rules[0].charge-on[0] must be from 100 to 599, was 700",
      RULE + "sluice.rules[0].limits[0].permits=1,sluice.rules[0].limits[0].per=1s,"
          + "sluice.rules[1].name=api,sluice.rules[1].limits[0].permits=1,sluice.rules[1].limits[0].per=1s"
          + "|sluice.rules[1].name must be unique, was \"api\" (also sluice.rules[0])",
      RULE + "sluice.rules[0].plan=spel:#key ==,sluice.plans.free[0].permits=1,"
          + "sluice.plans.free[0].per=1s|sluice.rules[0].plan must be a SpEL expression",
      "sluice.rules[0].name=api|sluice.rules[0] must set one of plan and limits, was neither",
      "sluice.store=redis,sluice.redis.uri=http://127.0.0.1:1," + RULE
          + "sluice.rules[0].limits[0].permits=1,sluice.rules[0].limits[0].per=1s"
          + "|sluice.redis.uri must be a Redis URI (redis://host:port), was \"http://127.0.0.1:1\"",
      "sluice.store=redis,sluice.redis.uri=redis://127.0.0.1:1,sluice.redis.deadline=0s," + RULE
          + "sluice.rules[0].limits[0].permits=1,sluice.rules[0].limits[0].per=1s"
          + "|sluice.redis.deadline must be from 1ms to 60s, was PT0S",
      "sluice.store=redis,sluice.redis.uri=redis://127.0.0.1:1,sluice.redis.leasing=5ms," + RULE
          + "sluice.rules[0].limits[0].permits=1,sluice.rules[0].limits[0].per=1s"
          + "|sluice.redis.leasing must be from 10ms to 1m, was PT0.005S",
  })
  void badValue_stopsTheApplication_namingPropertyAndBound(String properties, String message) {
    Throwable failure = catchThrowable(() -> start(properties.split(",")));
    assertThat(failure).as("the application must not start").isNotNull();
    assertThat(messages(failure)).anySatisfy(m -> assertThat(m).contains(message));
  }

  private static void start(String... properties) {
    try (ConfigurableApplicationContext ctx = new SpringApplicationBuilder(TestApp.class)
        .web(WebApplicationType.NONE).properties(properties).run()) {
      ctx.getBean(Sluice.class);
    }
  }

  private static List<String> messages(Throwable t) {
    List<String> out = new ArrayList<>();
    for (Throwable c = t; c != null; c = c.getCause()) {
      out.add(String.valueOf(c.getMessage()));
    }
    return out;
  }
}
