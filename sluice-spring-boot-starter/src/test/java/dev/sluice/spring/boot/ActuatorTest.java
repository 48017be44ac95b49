package dev.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;

/** The actuator over HTTP, in the context {@link MvcLimitsTest} uses (the same, cached). */
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("memory")
class ActuatorTest {

  @Value("${local.server.port}")
  int port;

  @Test
  void endpoint_listsRulesPlansStoreFailureModeAndKeys() {
    Http http = new Http(port);
    http.get("/api/hello", "X-API-Key", "free-" + UUID.randomUUID());
    HttpResponse<String> r = http.get("/actuator/sluice");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .contains("\"store\":\"memory\"")
        .contains("\"failureMode\":\"local\"")
        .contains("\"name\":\"api\"")
        .contains("\"free\":[{\"permits\":2,\"per\":\"PT1H\",\"burst\":3},"
            + "{\"permits\":1000,\"per\":\"PT24H\",\"burst\":1000}]")
        .contains("\"pro\":[{\"permits\":10,\"per\":\"PT1H\",\"burst\":10}]")
        .contains("\"name\":\"shadowed\",\"shadow\":true")
        .contains("\"reachable\":true")
        .containsPattern("\"name\":\"api\",\"shadow\":false,\"plans\":\\{.*?\\},\"keys\":[1-9]");
  }

  @Test
  void health_showsTheStoreUp() {
    HttpResponse<String> r = new Http(port).get("/actuator/health/sluice");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"status\":\"UP\"").contains("\"store\":\"memory\"");
  }

  @Test
  void metrics_countDecisionsByRule_inTheApplicationsRegistry() {
    Http http = new Http(port);
    String k = "pro-" + UUID.randomUUID();
    http.get("/api/hello", "X-API-Key", k);
    HttpResponse<String> r = http.get("/actuator/metrics/sluice.decisions?tag=limiter:api");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"name\":\"sluice.decisions\"").contains("\"result\"");
    HttpResponse<String> keys = http.get("/actuator/metrics/sluice.keys?tag=limiter:api");
    assertThat(keys.statusCode()).isEqualTo(200);
  }
}
