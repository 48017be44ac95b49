package dev.sluice.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * What the gateway does with Sluice behind {@code RequestRateLimiter}, through a real HTTP client,
 * whatever the store: the routes of application.yml, each test on keys of its own. The store's
 * clock does not move during a test by more than {@link #slackSeconds()} (none for a still
 * {@code ManualTicker}); the limits refill over hours, so counts are exact either way.
 */
abstract class GatewayScenarios {

  static final HttpClient CLIENT = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(10)).build();

  @LocalServerPort
  int port;

  /** The backend behind the routes. */
  abstract Backend backend();

  /** How far the store's clock may move during a test, in whole seconds. */
  abstract long slackSeconds();

  static String newClient() {
    return UUID.randomUUID().toString();
  }

  HttpResponse<String> get(String path, String client) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30)).GET();
    if (client != null) {
      b.header("X-Client", client);
    }
    try {
      return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  /** A whole-seconds header within the slack below {@code expected}. */
  void assertSeconds(HttpResponse<?> r, String name, long expected) {
    assertThat(header(r, name)).as(name).isNotNull();
    long value = Long.parseLong(header(r, name));
    assertThat(value).as(name).isBetween(expected - slackSeconds(), expected);
  }

  @Test
  void burst_thenRefused_exactCountsAnd429WithHeaders() {
    String client = newClient();
    for (int i = 1; i <= 5; i++) {
      HttpResponse<String> r = get("/limited/a", client);
      assertThat(r.statusCode()).as("request %d", i).isEqualTo(200);
      assertThat(r.body()).isEqualTo("ok");
      assertThat(header(r, "X-RateLimit-Limit")).isEqualTo("5");
      assertThat(header(r, "X-RateLimit-Remaining")).isEqualTo(Integer.toString(5 - i));
      assertSeconds(r, "X-RateLimit-Reset", 1200L * i);
      assertThat(header(r, "RateLimit-Policy")).isEqualTo("\"limited\";q=5;w=6000");
      assertThat(header(r, "RateLimit")).startsWith("\"limited\";r=" + (5 - i) + ";t=");
      assertThat(header(r, "Retry-After")).as("only on refusals").isNull();
    }
    HttpResponse<String> refused = get("/limited/a", client);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(header(refused, "X-RateLimit-Limit")).isEqualTo("5");
    assertThat(header(refused, "X-RateLimit-Remaining")).isEqualTo("0");
    assertSeconds(refused, "Retry-After", 1200);
    assertSeconds(refused, "X-RateLimit-Reset", 6000);
    assertThat(header(refused, "RateLimit-Policy")).isEqualTo("\"limited\";q=5;w=6000");
    assertThat(get("/limited/a", client).statusCode()).as("still refused").isEqualTo(429);
    assertThat(backend().hits("/limited/a", client)).as("requests that reached the backend")
        .isEqualTo(5);
  }

  @Test
  void distinctKeys_independentBuckets() {
    String a = newClient();
    String b = newClient();
    for (int i = 0; i < 5; i++) {
      assertThat(get("/limited/k", a).statusCode()).isEqualTo(200);
    }
    assertThat(get("/limited/k", a).statusCode()).isEqualTo(429);
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = get("/limited/k", b);
      assertThat(r.statusCode()).as("b's request %d", i + 1).isEqualTo(200);
      assertThat(header(r, "X-RateLimit-Remaining")).isEqualTo(Integer.toString(4 - i));
    }
    assertThat(get("/limited/k", b).statusCode()).isEqualTo(429);
    assertThat(backend().hits("/limited/k", a)).isEqualTo(5);
    assertThat(backend().hits("/limited/k", b)).isEqualTo(5);
  }

  /** The same key on two routes: a bucket per route, each under its route's configuration. */
  @Test
  void perRoute_ownConfigAndOwnBucket_planOfTwoLimits() {
    String client = newClient();
    for (int i = 0; i < 5; i++) {
      assertThat(get("/limited/r", client).statusCode()).isEqualTo(200);
    }
    assertThat(get("/limited/r", client).statusCode()).isEqualTo(429);
    // gold: 10 per hour with bursts of 4, and 6 per day; the first binds
    for (int i = 1; i <= 4; i++) {
      HttpResponse<String> r = get("/gold/r", client);
      assertThat(r.statusCode()).as("gold request %d", i).isEqualTo(200);
      assertThat(header(r, "X-RateLimit-Limit")).isEqualTo("4");
      assertThat(header(r, "X-RateLimit-Remaining")).isEqualTo(Integer.toString(4 - i));
      assertThat(header(r, "RateLimit-Policy"))
          .isEqualTo("\"gold.1\";q=4;w=1440, \"gold.2\";q=6;w=86400");
      assertThat(header(r, "RateLimit")).startsWith("\"gold.1\";r=" + (4 - i) + ";t=");
    }
    HttpResponse<String> refused = get("/gold/r", client);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertSeconds(refused, "Retry-After", 360);
    assertThat(backend().hits("/gold/r", client)).isEqualTo(4);
    assertThat(backend().hits("/limited/r", client)).isEqualTo(5);
  }

  @Test
  void cost_takesItsPermits_refusedWhenFewerLeft() {
    String client = newClient();
    HttpResponse<String> first = get("/costly/c", client);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(header(first, "X-RateLimit-Remaining")).isEqualTo("6");
    assertThat(get("/costly/c", client).statusCode()).isEqualTo(200);
    HttpResponse<String> refused = get("/costly/c", client);
    assertThat(refused.statusCode()).as("2 left, 4 asked").isEqualTo(429);
    assertThat(header(refused, "X-RateLimit-Remaining")).isEqualTo("2");
    assertSeconds(refused, "Retry-After", 2 * 360); // two permits short, one every 6 minutes
    assertThat(backend().hits("/costly/c", client)).isEqualTo(2);
  }

  @Test
  void noKey_refusedByGatewayWith403_noBucketTaken() {
    HttpResponse<String> r = get("/limited/nokey", null);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(header(r, "X-RateLimit-Limit")).isNull();
    assertThat(backend().hits("/limited/nokey", null)).isZero();
  }

  @Test
  void routeWithoutConfiguration_errorNotAdmission() {
    HttpResponse<String> r = get("/unconfigured/x", newClient());
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(backend().hits("/unconfigured/x", null)).isZero();
  }
}
