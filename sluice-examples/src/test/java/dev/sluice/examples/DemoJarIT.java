package dev.sluice.examples;

import static dev.sluice.examples.DemoServerTest.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.redis.RedisServer;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shaded jar as a separate process, started the way the README says ({@code java -jar
 * sluice-examples/target/sluice-examples-<version>.jar ...}, here on port 0), driven over HTTP,
 * then stopped with SIGTERM ({@link Process#destroy()} on Linux); with {@code --redis}, two of
 * them on one real redis-server. Runs in the integration-test phase, after the jar is built.
 */
class DemoJarIT {

  @Test
  void jar_readmeFlags_servesLimitsAndStopsCleanlyOnSigterm() throws Exception {
    try (DemoProcess demo = new DemoProcess(Map.of(), "--port", "0", "--limit", "10/s", "--burst", "20")) {
      String base = demo.baseUrl();
      assertThat(demo.await("  curl -i ")).isEqualTo("  curl -i " + base + "/hello");
      HttpResponse<String> hello = get(base + "/hello");
      assertThat(hello.statusCode()).isEqualTo(200);
      assertThat(hello.body()).isEqualTo("Hello from Sluice!\n");
      assertThat(hello.headers().firstValue("X-RateLimit-Remaining")).hasValue("19");
      assertThat(get(base + "/").body()).contains("<svg id=\"chart\"");
      // at 10/s, a 21-request burst cannot all pass unless the requests take seconds
      HttpResponse<String> refused = null;
      int admitted = 1;
      for (int i = 0; i < 200 && refused == null; i++) {
        HttpResponse<String> r = get(base + "/hello");
        if (r.statusCode() == 429) {
          refused = r;
        } else {
          assertThat(r.statusCode()).isEqualTo(200);
          admitted++;
        }
      }
      assertThat(refused).as("a 429 within 200 requests").isNotNull();
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");

      Scrape metrics = new Scrape(get(base + "/metrics").body());
      assertThat(metrics.get("sluice_decisions_total", "limiter", "api", "result", "allowed", "shadow", "false"))
          .isEqualTo((double) admitted);
      assertThat(metrics.get("sluice_decisions_total", "limiter", "api", "result", "denied", "shadow", "false"))
          .isEqualTo(1.0);

      assertThat(demo.sigterm()).isZero();
      assertThat(demo.await("Sluice demo stopped")).matches("Sluice demo stopped cleanly in \\d+ ms\\.");
      assertThatThrownBy(() -> get(base + "/hello")).isInstanceOf(ConnectException.class);
    }
  }

  @Test
  void jar_environmentVariables_sameAsFlags() throws Exception {
    try (DemoProcess demo = new DemoProcess(Map.of("PORT", "0", "SLUICE_LIMIT", "1/h",
        "SLUICE_KEY", "header:X-API-Key", "SLUICE_HEADERS", "ietf"))) {
      String base = demo.baseUrl();
      assertThat(get(base + "/hello").statusCode()).isEqualTo(403);
      HttpResponse<String> ok = get(base + "/hello", "X-API-Key", "k");
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.headers().firstValue("RateLimit-Policy")).hasValue("\"api\";q=1;w=3600");
      assertThat(ok.headers().firstValue("X-RateLimit-Limit")).isEmpty();
      assertThat(get(base + "/hello", "X-API-Key", "k").statusCode()).isEqualTo(429);
      assertThat(demo.sigterm()).isZero();
    }
  }

  @Test
  void jar_helpAndBadFlags_usageAndExitStatus() throws Exception {
    try (DemoProcess help = new DemoProcess(Map.of(), "--help")) {
      assertThat(help.await("Usage: ")).startsWith("Usage: java -jar");
      assertThat(help.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(help.process.exitValue()).isZero();
      assertThat(String.join("\n", help.lines()))
          .contains("  GET /metrics     Prometheus metrics")
          .contains("  --redis URI ").contains("[SLUICE_REDIS]")
          .contains("redis-cluster://host1:7000,host2:7001")
          .contains("  --failure-mode MODE ").contains("[SLUICE_FAILURE_MODE] default local");
    }
    String[][] bad = {
        {"--limit \"lots\"", "--limit", "lots"},
        {"--failure-mode \"maybe\" must be open, closed or local", "--failure-mode", "maybe"},
        {"--redis: uri (\"localhost:6379\") must start with redis://", "--redis", "localhost:6379"},
        {"sluice-demo: unknown option --bogus (see --help)", "--bogus"},
        {"sluice-demo: --headers \"none,ietf\": none cannot be combined", "--headers", "none,ietf"},
    };
    for (String[] b : bad) {
      try (DemoProcess demo = new DemoProcess(Map.of(),
          Arrays.copyOfRange(b, 1, b.length))) {
        assertThat(demo.await("sluice-demo: ")).contains(b[0]);
        assertThat(demo.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(demo.process.exitValue()).isEqualTo(2);
      }
    }
  }

  @Test
  void jar_portInUse_saysSoNamingThePort_exitStatus1() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
        DemoProcess demo = new DemoProcess(Map.of(), "--port",
            Integer.toString(taken.getLocalPort()))) {
      assertThat(demo.await("sluice-demo: ")).isEqualTo("sluice-demo: port "
          + taken.getLocalPort() + " on 127.0.0.1 is in use (another server is listening there):"
          + " choose another with --port N, or --port 0 for any free port");
      assertThat(demo.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(demo.process.exitValue()).isEqualTo(1);
    }
  }

  private static double orZero(Double v) {
    return v == null ? 0 : v;
  }

  /**
   * Two jars on one Redis (one configured by flags, one by environment variables) share each
   * key's bucket; with Redis killed, each follows its own failure mode; both stop cleanly.
   */
  @Test
  void jar_twoProcessesOnOneRedis_shareTheLimitThenFollowTheirFailureModes() throws Exception {
    assumeTrue(RedisServer.canStart(), "needs a redis-server on the PATH or in embedded-redis");
    try (RedisServer redis = RedisServer.start();
        DemoProcess a = new DemoProcess(Map.of(), "--port", "0", "--redis", redis.uri(),
            "--limit", "1/h", "--burst", "4", "--key", "header:X-API-Key");
        DemoProcess b = new DemoProcess(Map.of("PORT", "0", "SLUICE_REDIS", redis.uri(),
            "SLUICE_FAILURE_MODE", "closed", "SLUICE_LIMIT", "1/h", "SLUICE_BURST", "4",
            "SLUICE_KEY", "header:X-API-Key"))) {
      String baseA = a.baseUrl();
      String baseB = b.baseUrl();
      // the banner may add that Redis did not answer its first call within the deadline
      assertThat(a.await("  Buckets in ")).startsWith("  Buckets in Redis at " + redis.uri()
          + "; failure mode local");
      assertThat(b.await("  Buckets in ")).startsWith("  Buckets in Redis at " + redis.uri()
          + "; failure mode closed");
      // A Redis call that misses its deadline (50 ms; a cold JVM on a loaded machine can) is
      // answered by the failure mode, as documented: then the round is not one shared bucket's,
      // and a fresh key is tried. Every response says who decided it.
      int storeAllowed = 0;
      int storeDenied = 0;
      List<String> rounds = new ArrayList<>();
      boolean shared = false;
      for (int round = 0; round < 5 && !shared; round++) {
        String key = "k" + round;
        int admitted = 0;
        List<String> sources = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          for (String base : new String[] {baseA, baseB}) {
            HttpResponse<String> r = get(base + "/hello", "X-API-Key", key);
            String source = r.headers().firstValue("Sluice-Decision-Source").orElse("none");
            sources.add(r.statusCode() + " " + source);
            admitted += r.statusCode() == 200 ? 1 : 0;
            if (source.equals("store") || source.equals("deny-cache")) { // decided by Redis
              storeAllowed += r.statusCode() == 200 ? 1 : 0;
              storeDenied += r.statusCode() == 429 ? 1 : 0;
            }
          }
        }
        rounds.add(sources.toString());
        if (sources.stream().allMatch(x -> x.endsWith(" store") || x.endsWith(" deny-cache"))) {
          assertThat(admitted).as("one burst of 4 across both processes, not 4 each: " + sources)
              .isEqualTo(4);
          shared = true;
        }
      }
      assertThat(shared).as("a round decided by Redis alone, in " + rounds).isTrue();
      // LOCAL enforces 1/N, N the live nodes A last counted: heartbeats ride on decisions (one
      // every 2 s at most), so decide on A, tallied as above, until A counts both processes.
      double nodesA = 0;
      for (int i = 0; i < 200 && nodesA != 2; i++) {
        HttpResponse<String> r = get(baseA + "/hello", "X-API-Key", "beat" + i);
        String source = r.headers().firstValue("Sluice-Decision-Source").orElse("none");
        if (source.equals("store") || source.equals("deny-cache")) {
          storeAllowed += r.statusCode() == 200 ? 1 : 0;
          storeDenied += r.statusCode() == 429 ? 1 : 0;
        }
        nodesA = orZero(new Scrape(get(baseA + "/metrics").body()).get("sluice_store_nodes",
            "limiter", "api"));
        if (nodesA != 2) {
          java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
        }
      }
      assertThat(nodesA).as("A counts both processes").isEqualTo(2.0);
      Scrape sa = new Scrape(get(baseA + "/metrics").body());
      Scrape sb = new Scrape(get(baseB + "/metrics").body());
      assertThat(sa.get("sluice_decisions_total", "limiter", "api", "result", "allowed", "shadow", "false")
          + sb.get("sluice_decisions_total", "limiter", "api", "result", "allowed", "shadow", "false"))
          .isEqualTo((double) storeAllowed);
      assertThat(sa.get("sluice_decisions_total", "limiter", "api", "result", "denied", "shadow", "false")
          + sb.get("sluice_decisions_total", "limiter", "api", "result", "denied", "shadow", "false"))
          .isEqualTo((double) storeDenied);
      // counters appear with their first count
      double localAllowed = orZero(sa.get("sluice_failure_mode_decisions_total", "limiter", "api",
          "mode", "local", "result", "allowed", "shadow", "false"));
      double errorsA = orZero(sa.get("sluice_backend_errors_total", "limiter", "api"));
      double closedDenied = orZero(sb.get("sluice_failure_mode_decisions_total", "limiter", "api",
          "mode", "closed", "result", "denied", "shadow", "false"));
      double errorsB = orZero(sb.get("sluice_backend_errors_total", "limiter", "api"));

      redis.kill();
      HttpResponse<String> local = get(baseA + "/hello", "X-API-Key", "fresh");
      assertThat(local.statusCode()).isEqualTo(200);
      // A's share of burst 4 over 2 live nodes: 2, one taken
      assertThat(local.headers().firstValue("X-RateLimit-Remaining")).hasValue("1");
      HttpResponse<String> closed = get(baseB + "/hello", "X-API-Key", "fresh");
      assertThat(closed.statusCode()).isEqualTo(503);
      assertThat(closed.headers().firstValue("Retry-After")).isEmpty();
      sa = new Scrape(get(baseA + "/metrics").body());
      sb = new Scrape(get(baseB + "/metrics").body());
      assertThat(sa.get("sluice_failure_mode_decisions_total", "limiter", "api", "mode", "local",
          "result", "allowed", "shadow", "false")).isEqualTo(localAllowed + 1);
      assertThat(sa.get("sluice_backend_errors_total", "limiter", "api")).isEqualTo(errorsA + 1);
      assertThat(sb.get("sluice_failure_mode_decisions_total", "limiter", "api", "mode", "closed",
          "result", "denied", "shadow", "false")).isEqualTo(closedDenied + 1);
      assertThat(sb.get("sluice_backend_errors_total", "limiter", "api")).isEqualTo(errorsB + 1);
      if (rounds.size() > 1) {
        System.out.println("DemoJarIT: rounds until Redis decided a whole round: " + rounds);
      }

      assertThat(a.sigterm()).isZero();
      assertThat(b.sigterm()).isZero();
      assertThat(a.await("Sluice demo stopped")).startsWith("Sluice demo stopped cleanly in ");
      assertThat(b.await("Sluice demo stopped")).startsWith("Sluice demo stopped cleanly in ");
    }
  }
}
