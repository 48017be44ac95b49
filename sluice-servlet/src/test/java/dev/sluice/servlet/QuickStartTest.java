package dev.sluice.servlet;

import dev.sluice.http.*;

import static dev.sluice.servlet.HeadersTimelineTest.header;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** The README's quick start for the filter, as written, in front of a real Jetty. */
class QuickStartTest {

  @Test
  void readmeQuickStart_compilesAndLimits() throws Exception {
    // --- README quick start (keep in sync) ---
    RateLimitFilter filter = RateLimitFilter.builder()
        .key(KeyResolver.header("X-API-Key")
            .orElse(KeyResolver.clientIp(TrustedProxies.of("10.0.0.0/8"))))
        .rule(Rule.builder("api", Limit.perSecond(10).withCapacity(20))
            .paths("/api/**").build())
        .rule(Rule.builder("search", Limit.perMinute(30))
            .paths("/api/search").methods("GET").permits(2).build())
        .exempt("/health")
        .build();
    // --- end ---
    try (TestServer server = TestServer.start(filter)) {
      HttpResponse<String> r = server.get("/api/items", "X-API-Key", "demo");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(header(r, "X-RateLimit-Limit")).isEqualTo("20");
      assertThat(header(r, "X-RateLimit-Remaining")).isEqualTo("19");
      assertThat(header(r, "RateLimit-Policy")).isEqualTo("\"api\";q=20;w=2");
      HttpResponse<String> search = server.get("/api/search");
      assertThat(header(search, "RateLimit-Policy"))
          .isEqualTo("\"api\";q=20;w=2, \"search\";q=30;w=60");
      assertThat(header(search, "X-RateLimit-Remaining")).isEqualTo("19");
      assertThat(header(search, "RateLimit")).startsWith("\"api\";r=19;t=1, \"search\";r=28;t=");
      assertThat(header(server.get("/health"), "X-RateLimit-Limit")).isEqualTo("-");
    }
    filter.close();
  }
}
