package dev.sluice.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.core.NestedExceptionUtils;

/** A route with bad arguments stops the application from starting, and says why. */
class GatewayStartupTest {

  @Test
  void badRouteArguments_applicationFailsToStart_messageNamesRouteValueAndBound() {
    String filter = "spring.cloud.gateway.server.webflux.default-filters[0].";
    SpringApplicationBuilder app = new SpringApplicationBuilder(GatewayTestApp.class).properties(
        "server.port=0",
        "server.address=127.0.0.1",
        "backend.uri=http://127.0.0.1:9",
        filter + "name=RequestRateLimiter",
        filter + "args[rate-limiter]=#{@sluiceRateLimiter}",
        filter + "args[key-resolver]=#{@clientKeyResolver}",
        filter + "args[sluice-rate-limiter.permits]=0",
        filter + "args[sluice-rate-limiter.per]=1s");
    assertThatThrownBy(app::run).satisfies(e -> {
      Throwable root = NestedExceptionUtils.getMostSpecificCause(e);
      assertThat(root).isInstanceOf(IllegalArgumentException.class);
      assertThat(root.getMessage()).as("the first route loaded; routes load in order")
          .matches("route [a-z]+: sluice-rate-limiter\\.permits \\(0\\) must be at least 1"
              + " \\(or set a plan\\)");
    });
  }
}
