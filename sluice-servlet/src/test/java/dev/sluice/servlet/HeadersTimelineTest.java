package dev.sluice.servlet;

import dev.sluice.http.*;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every header's exact value across a drain-and-refill timeline, on a manual ticker, over real
 * HTTP. The limit is 1 permit per 2.3 s with a capacity of 3 (7 s to fill from empty), so that
 * every rounding shows: times are whole seconds rounded up, Retry-After is never below 1, and a
 * client that waits exactly Retry-After succeeds while one that waits a second less does not.
 */
class HeadersTimelineTest {

  private static final long MS = 1_000_000L;

  /** One request: advance the ticker, then expect these values ("-" = header absent). */
  private record Step(long advanceNanos, int status, String remaining, String reset,
      String retryAfter, String rateLimit) {}

  @ParameterizedTest(name = "ticker starts at {0}")
  @ValueSource(longs = {0L, Long.MAX_VALUE - 5_000_000_000L, -123_456_789_012L})
  void headers_drainAndRefillTimeline_exactValues(long start) throws Exception {
    ManualTicker ticker = new ManualTicker(start);
    Limit limit = Limit.of(1, Duration.ofMillis(2300)).withCapacity(3);
    List<Step> steps = List.of(
        new Step(0, 200, "2", "3", "-", "\"api\";r=2;t=3"),
        new Step(0, 200, "1", "5", "-", "\"api\";r=1;t=5"),
        new Step(0, 200, "0", "7", "-", "\"api\";r=0;t=7"),
        // empty: the next permit is 2.3 s away -> Retry-After 3
        new Step(0, 429, "0", "7", "3", "\"api\";r=0;t=7"),
        // 2 s later (one second short of Retry-After): still refused, 0.3 s -> 1
        new Step(2000 * MS, 429, "0", "5", "1", "\"api\";r=0;t=5"),
        // 1 ns before the permit: refused, and Retry-After is never 0
        new Step(300 * MS - 1, 429, "0", "5", "1", "\"api\";r=0;t=5"),
        // exactly at the permit: admitted
        new Step(1, 200, "0", "7", "-", "\"api\";r=0;t=7"),
        new Step(0, 429, "0", "7", "3", "\"api\";r=0;t=7"),
        // the client that waited exactly Retry-After (3 s) succeeds
        new Step(3000 * MS, 200, "0", "7", "-", "\"api\";r=0;t=7"),
        // long idle: full again; one taken
        new Step(60_000 * MS, 200, "2", "3", "-", "\"api\";r=2;t=3"));
    RateLimitFilter filter = RateLimitFilter.builder()
        .rule(Rule.builder("api", limit).build())
        .ticker(ticker)
        .build();
    try (TestServer server = TestServer.start(filter)) {
      int n = 0;
      for (Step s : steps) {
        ticker.advance(s.advanceNanos());
        HttpResponse<String> r = server.get("/hello");
        String at = "step " + n++ + " " + s;
        assertThat(r.statusCode()).as(at).isEqualTo(s.status());
        assertThat(header(r, "X-RateLimit-Limit")).as(at).isEqualTo("3");
        assertThat(header(r, "X-RateLimit-Remaining")).as(at).isEqualTo(s.remaining());
        assertThat(header(r, "X-RateLimit-Reset")).as(at).isEqualTo(s.reset());
        assertThat(header(r, "Retry-After")).as(at).isEqualTo(s.retryAfter());
        assertThat(header(r, "RateLimit-Policy")).as(at).isEqualTo("\"api\";q=3;w=7");
        assertThat(header(r, "RateLimit")).as(at).isEqualTo(s.rateLimit());
      }
    }
  }

  @ParameterizedTest(name = "groups {0}")
  @ValueSource(strings = {"", "X_RATELIMIT", "IETF", "RETRY_AFTER", "X_RATELIMIT,RETRY_AFTER"})
  void headers_groupsSwitchedOff_onlyChosenGroupsWritten(String names) throws Exception {
    HeaderGroup[] groups = names.isEmpty() ? new HeaderGroup[0]
        : java.util.Arrays.stream(names.split(",")).map(HeaderGroup::valueOf)
            .toArray(HeaderGroup[]::new);
    java.util.Set<HeaderGroup> on = java.util.Set.of(groups);
    RateLimitFilter filter = RateLimitFilter.builder()
        .limit(Limit.perHour(1))
        .headers(groups)
        .ticker(new ManualTicker())
        .build();
    try (TestServer server = TestServer.start(filter)) {
      HttpResponse<String> ok = server.get("/hello");
      HttpResponse<String> refused = server.get("/hello");
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(refused.statusCode()).isEqualTo(429);
      for (HttpResponse<String> r : List.of(ok, refused)) {
        for (String h : List.of("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")) {
          assertThat(r.headers().firstValue(h).isPresent()).as(h)
              .isEqualTo(on.contains(HeaderGroup.X_RATELIMIT));
        }
        assertThat(r.headers().firstValue("RateLimit").isPresent())
            .isEqualTo(on.contains(HeaderGroup.IETF));
        assertThat(r.headers().firstValue("RateLimit-Policy").isPresent())
            .isEqualTo(on.contains(HeaderGroup.IETF));
      }
      assertThat(ok.headers().firstValue("Retry-After")).isEmpty();
      assertThat(refused.headers().firstValue("Retry-After"))
          .isEqualTo(on.contains(HeaderGroup.RETRY_AFTER)
              ? java.util.Optional.of("3600") : java.util.Optional.empty());
    }
  }

  static String header(HttpResponse<?> r, String name) {
    List<String> values = r.headers().allValues(name);
    assertThat(values).as("at most one " + name).hasSizeLessThanOrEqualTo(1);
    return values.isEmpty() ? "-" : values.get(0);
  }
}
