package dev.sluice.servlet;

import dev.sluice.http.*;

import static dev.sluice.servlet.HeadersTimelineTest.header;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The 429 response: RFC 9457 body, media type, and a handler the user replaces. */
class ProblemJsonTest {

  @Test
  void refusal_defaultHandler_rfc9457QuotaExceededBody() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder("api", Limit.perHour(1)).build()).ticker(new ManualTicker()).build();
    try (TestServer server = TestServer.start(filter)) {
      server.get("/hello");
      HttpResponse<String> r = server.get("/hello");
      assertThat(r.statusCode()).isEqualTo(429);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
      assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
      assertThat(r.body()).isEqualTo("{"
          + "\"type\":\"https://iana.org/assignments/http-problem-types#quota-exceeded\","
          + "\"title\":\"Request cannot be satisfied as assigned quota has been exceeded\","
          + "\"status\":429,"
          + "\"detail\":\"Rate limit \\\"api\\\" exceeded: 1 permit requested, 0 available;"
          + " retry in 3600 s.\","
          + "\"violated-policies\":[\"api\"]}");
      assertThat(r.headers().firstValueAsLong("Content-Length"))
          .hasValue(r.body().getBytes(StandardCharsets.UTF_8).length);
    }
  }

  @Test
  void refusal_customHandler_replacesStatusAndBodyButKeepsHeaders() throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder()
        .limit(Limit.perHour(1))
        .rejectionHandler((req, res, rejection) -> {
          res.setStatus(503);
          res.setContentType("text/plain");
          res.getWriter().write(rejection.reason() + " " + rejection.rules() + " "
              + rejection.retryAfterSeconds().orElse(-1));
        })
        .ticker(new ManualTicker()).build();
    try (TestServer server = TestServer.start(filter)) {
      server.get("/hello");
      HttpResponse<String> r = server.get("/hello");
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).isEqualTo("QUOTA_EXCEEDED [default] 3600");
      assertThat(header(r, "Retry-After")).isEqualTo("3600");
      assertThat(header(r, "X-RateLimit-Remaining")).isEqualTo("0");
    }
  }
}
