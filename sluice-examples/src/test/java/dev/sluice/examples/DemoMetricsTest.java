package dev.sluice.examples;

import static dev.sluice.examples.DemoServerTest.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Decision;
import dev.sluice.ManualTicker;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics} in-process, over real HTTP, on a manual ticker: the numbers it shows are the
 * traffic the test sent.
 */
class DemoMetricsTest {

  private static DemoServer start(ManualTicker ticker, String... args) throws Exception {
    return DemoServer.start(DemoOptions.parse(args, Map.<String, String>of()::get), ticker);
  }

  static Scrape scrape(String base) throws Exception {
    HttpResponse<String> r = get(base + "/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    return new Scrape(r.body());
  }

  /** Sends {@code n} requests for {@code key}; returns how many were admitted. */
  private static int send(String base, String key, int n) throws Exception {
    int ok = 0;
    for (int i = 0; i < n; i++) {
      int status = get(base + "/hello", "X-API-Key", key).statusCode();
      assertThat(status).isIn(200, 429);
      ok += status == 200 ? 1 : 0;
    }
    return ok;
  }

  @Test
  void metrics_trafficSent_allowedDeniedLatencyAndKeysEqualIt() throws Exception {
    ManualTicker ticker = new ManualTicker();
    try (DemoServer demo = start(ticker, "--port", "0", "--limit", "1/h", "--burst", "5",
        "--key", "header:X-API-Key")) {
      String base = demo.baseUrl();
      HttpResponse<String> empty = get(base + "/metrics");
      assertThat(empty.headers().firstValue("Content-Type").orElseThrow())
          .startsWith("text/plain").contains("version=0.0.4");
      assertThat(empty.headers().firstValue("X-RateLimit-Limit")).as("exempt").isEmpty();
      Scrape before = new Scrape(empty.body());
      assertThat(before.get("sluice_decisions_total", "limiter", "api", "result", "allowed", "shadow", "false"))
          .isEqualTo(0.0);
      assertThat(before.get("sluice_keys", "limiter", "api")).isEqualTo(0.0);

      // 4 keys: 7 + 3 + 1 + 6 requests against bursts of 5, nothing refills (frozen ticker)
      assertThat(send(base, "k1", 7)).isEqualTo(5);
      assertThat(send(base, "k2", 3)).isEqualTo(3);
      assertThat(send(base, "k3", 1)).isEqualTo(1);
      assertThat(send(base, "k4", 6)).isEqualTo(5);
      // none of these decides: exempt paths, and a request without a key (403)
      get(base + "/");
      get(base + "/api/status", "X-API-Key", "k5");
      assertThat(get(base + "/hello").statusCode()).isEqualTo(403);
      scrape(base);

      Scrape s = scrape(base);
      assertThat(s.get("sluice_decisions_total", "limiter", "api", "result", "allowed", "shadow", "false"))
          .as(s.dump("sluice_")).isEqualTo(14.0);
      assertThat(s.get("sluice_decisions_total", "limiter", "api", "result", "denied", "shadow", "false"))
          .isEqualTo(3.0);
      assertThat(s.get("sluice_decision_latency_seconds_count", "limiter", "api")).isEqualTo(17.0);
      assertThat(s.get("sluice_decision_latency_seconds_sum", "limiter", "api")).isPositive();
      assertThat(s.get("sluice_keys", "limiter", "api")).isEqualTo(4.0);
      assertThat(s.get("sluice_backend_errors_total", "limiter", "api")).isEqualTo(0.0);
      assertThat(s.get("sluice_evictions_total", "limiter", "api")).isEqualTo(0.0);
      for (String[] mode : new String[][] {{"open", "allowed"}, {"closed", "denied"},
          {"local", "allowed"}, {"local", "denied"}}) {
        assertThat(s.get("sluice_failure_mode_decisions_total", "limiter", "api", "mode", mode[0],
            "result", mode[1], "shadow", "false")).as("%s", (Object) mode).isEqualTo(0.0);
      }

      // 5 h fills a bucket of 5 at 1/h; full for another 5 h, it is dropped by the cleaner
      ticker.advance(Duration.ofHours(11));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (scrape(base).get("sluice_keys", "limiter", "api") != 0.0) {
        assertThat(System.nanoTime() - deadline).as("keys gauge back to 0 within 10 s")
            .isNegative();
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      }
      assertThat(scrape(base).get("sluice_decisions_total", "limiter", "api", "result", "allowed", "shadow", "false"))
          .as("counters keep counting").isEqualTo(14.0);
    }
  }

  @Test
  void stop_afterServing_closesTheLimiter() throws Exception {
    DemoServer demo = start(new ManualTicker(), "--port", "0", "--limit", "1/h", "--burst", "5");
    String base = demo.baseUrl();
    assertThat(get(base + "/hello").statusCode()).isEqualTo(200);
    assertThat(demo.limiter().decide("k", 1).source()).isEqualTo(Decision.Source.STORE);
    demo.close();
    // a closed limiter answers by its failure mode (local: refuse) without touching its store
    assertThat(demo.limiter().decide("k", 1).source()).isEqualTo(Decision.Source.FAILURE_CLOSED);
    demo.close(); // idempotent
  }
}
