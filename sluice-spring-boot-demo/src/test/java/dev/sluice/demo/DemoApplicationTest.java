package dev.sluice.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The demo as {@code main} starts it, with its own application.yml, on a free port. Only the
 * free plan's first limit is slowed (per hour instead of per second), so that the counts are
 * exact on a busy machine.
 */
class DemoApplicationTest {

  private static HttpResponse<String> get(HttpClient c, int port, String path, String key)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(60));
    if (key != null) {
      b.header("X-API-Key", key);
    }
    return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The README's Spring Boot quick start is what this demo runs, line for line. */
  @Test
  void readmeQuickStart_isTheDemosApplicationYml() throws Exception {
    String readme = Files.readString(Path.of(System.getProperty("sluice.readme", "../README.md")));
    int marker = readme.indexOf("<!-- sluice-readme-test: spring-quick-start");
    assertThat(marker).as("the README's quick-start marker").isNotNegative();
    int start = readme.indexOf("```yaml\n", marker) + "```yaml\n".length();
    String yaml = readme.substring(start, readme.indexOf("```", start));
    assertThat(yaml.lines().count()).as("lines of YAML").isLessThanOrEqualTo(15);
    String demo;
    try (InputStream in = DemoApplication.class.getResourceAsStream("/application.yml")) {
      demo = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(demo).contains(yaml);
  }

  @Test
  void quickStartYaml_freeAndProPlans_andTheEndpoint() throws Exception {
    SpringApplication app = new SpringApplication(DemoApplication.class);
    app.setAdditionalProfiles("test");
    try (ConfigurableApplicationContext ctx = app.run("--server.port=0",
        "--server.address=127.0.0.1",
        "--sluice.plans.free[0].permits=2", "--sluice.plans.free[0].per=1h",
        "--sluice.plans.free[0].burst=3", "--sluice.plans.free[1].permits=1000",
        "--sluice.plans.free[1].per=1h")) {
      int port = Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port"));
      HttpClient c = HttpClient.newHttpClient();
      String free = "free-" + UUID.randomUUID();
      for (int i = 0; i < 3; i++) {
        assertThat(get(c, port, "/api/hello", free).statusCode()).isEqualTo(200);
      }
      HttpResponse<String> refused = get(c, port, "/api/hello", free);
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.body()).contains("\"violated-policies\":[\"api\"]");
      HttpResponse<String> pro = get(c, port, "/api/hello", "pro-" + UUID.randomUUID());
      assertThat(pro.headers().firstValue("X-RateLimit-Limit")).hasValue("10");
      HttpResponse<String> endpoint = get(c, port, "/actuator/sluice", null);
      assertThat(endpoint.statusCode()).isEqualTo(200);
      assertThat(endpoint.body()).contains("\"name\":\"api\"").contains("\"pro\"");
    }
  }
}
