package dev.sluice.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchException;

import dev.sluice.ManualTicker;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The demo server in-process, started from the README's flags (on port 0) with a manual ticker,
 * driven over real HTTP.
 */
class DemoServerTest {

  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  static HttpResponse<String> get(String url, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static DemoServer start(ManualTicker ticker, String... args) throws Exception {
    return DemoServer.start(DemoOptions.parse(args, Map.<String, String>of()::get), ticker);
  }

  @Test
  void readmeFlags_helloLimitedPageAndStatusExempt() throws Exception {
    ManualTicker ticker = new ManualTicker();
    try (DemoServer demo = start(ticker, "--port", "0", "--limit", "10/s", "--burst", "20")) {
      String base = demo.baseUrl();
      assertThat(demo.banner()).startsWith("Sluice demo listening on " + base + "/\n")
          .contains("\n  Buckets in memory (--redis redis://host:6379 shares them between servers)\n")
          .contains("curl -i " + base + "/hello")
          .contains("curl -s " + base + "/metrics | grep '^sluice_'")
          .contains("for i in $(seq 25); do curl -s -o /dev/null -w '%{http_code} ' " + base
              + "/hello; done; echo");

      HttpResponse<String> page = get(base + "/");
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html;charset=utf-8");
      assertThat(page.body()).contains("<svg id=\"chart\"").contains("id=\"remaining\"")
          .doesNotContain("src=\"http").doesNotContain("href=\"http");
      assertThat(page.headers().firstValue("X-RateLimit-Limit")).isEmpty();

      assertThat(demo.banner()).contains("\n  Requests to /hello are limited to 10/s with bursts of"
          + " 20 per client IP; headers: xratelimit,ietf,retry-after\n");
      String none = "0,".repeat(59) + "0";
      assertThat(get(base + "/api/status").body()).isEqualTo("{\"rule\":\"api\",\"limit\":\"10/s\","
          + "\"capacity\":20,\"fillSeconds\":2.0,\"key\":\"ip\",\"keyHeader\":null,"
          + "\"headers\":\"xratelimit,ietf,retry-after\",\"remaining\":20,\"store\":\"memory\","
          + "\"failureMode\":\"local\",\"scope\":\"/hello\","
          + "\"history\":{\"seconds\":60,\"allowed\":[" + none + "],\"denied\":[" + none + "]}}");

      HttpResponse<String> hello = get(base + "/hello");
      assertThat(hello.statusCode()).isEqualTo(200);
      assertThat(hello.body()).isEqualTo("Hello from Sluice!\n");
      assertThat(hello.headers().firstValue("Content-Type")).hasValue("text/plain;charset=utf-8");
      assertThat(hello.headers().firstValue("X-RateLimit-Limit")).hasValue("20");
      assertThat(hello.headers().firstValue("X-RateLimit-Remaining")).hasValue("19");
      assertThat(hello.headers().firstValue("RateLimit-Policy")).hasValue("\"api\";q=20;w=2");
      assertThat(hello.headers().firstValue("RateLimit")).hasValue("\"api\";r=19;t=1");
      assertThat(hello.headers().firstValue("Sluice-Decision-Source")).hasValue("store");

      for (int i = 0; i < 19; i++) {
        assertThat(get(base + "/hello").statusCode()).isEqualTo(200);
      }
      HttpResponse<String> refused = get(base + "/hello");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(refused.body()).contains("\"violated-policies\":[\"api\"]");
      assertThat(refused.headers().firstValue("Sluice-Decision-Source")).hasValue("store");
      // the status endpoint reads without taking: twice the same
      assertThat(get(base + "/api/status").body()).contains("\"remaining\":0");
      assertThat(get(base + "/api/status").body()).contains("\"remaining\":0");

      ticker.advance(Duration.ofMillis(100)); // one permit at 10/s
      assertThat(get(base + "/api/status").body()).contains("\"remaining\":1");
      assertThat(get(base + "/hello").statusCode()).isEqualTo(200);
      assertThat(get(base + "/hello").statusCode()).isEqualTo(429);
      ticker.advance(Duration.ofSeconds(2));
      assertThat(get(base + "/api/status").body()).contains("\"remaining\":20");
      HttpResponse<String> missing = get(base + "/nowhere");
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(missing.headers().firstValue("X-RateLimit-Remaining"))
          .as("only /hello is limited by default").isEmpty();
      assertThat(get(base + "/api/status").body()).as("the 404 took nothing")
          .contains("\"remaining\":20");
    }
  }

  /**
   * {@code --max-wait}: on a frozen manual ticker, of six requests at once one is served, two are
   * queued (due 100 and 200 ms later, within 250 ms) and three refused; the queued ones are
   * answered only once the ticker reaches their due instants.
   */
  @Test
  void maxWait_excessRequestsQueuedAndServedWhenDue_beyondTheWaitRefused() throws Exception {
    ManualTicker ticker = new ManualTicker();
    try (DemoServer demo = start(ticker, "--port", "0", "--limit", "10/s", "--burst", "1",
        "--max-wait", "250ms")) {
      String base = demo.baseUrl();
      assertThat(demo.banner()).contains(" per client IP, excess requests queued up to 250ms;"
          + " headers: ");
      List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        sent.add(CLIENT.sendAsync(HttpRequest.newBuilder(URI.create(base + "/hello"))
            .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString()));
      }
      // Frozen: the one permit and the three refusals answer now; the two queued cannot.
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (sent.stream().filter(CompletableFuture::isDone).count() < 4
          && System.nanoTime() - deadline < 0) {
        CompletableFuture.anyOf(sent.stream().filter(f -> !f.isDone())
            .toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      }
      List<Integer> early = new ArrayList<>();
      for (CompletableFuture<HttpResponse<String>> f : sent) {
        if (f.isDone()) {
          early.add(f.get().statusCode());
        }
      }
      assertThat(early).containsExactlyInAnyOrder(200, 429, 429, 429);
      assertThat(sent.stream().filter(f -> !f.isDone()).count()).as("queued, not due").isEqualTo(2);
      ticker.advance(Duration.ofMillis(200));
      for (CompletableFuture<HttpResponse<String>> f : sent) {
        HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
        if (!early.remove((Integer) r.statusCode())) {
          assertThat(r.statusCode()).isEqualTo(200);
          assertThat(r.body()).isEqualTo("Hello from Sluice!\n");
          assertThat(r.headers().firstValue("X-RateLimit-Remaining")).hasValue("0");
        }
      }
      assertThat(get(base + "/api/status").body()).as("both queued permits used")
          .contains("\"remaining\":0");
    }
  }

  /** What a client other than the page sends is in the history the page draws from. */
  @Test
  void history_requestsFromAnyClient_inStatusPerSecond_deniedToo() throws Exception {
    ManualTicker ticker = new ManualTicker();
    try (DemoServer demo = start(ticker, "--port", "0", "--limit", "1/h", "--burst", "3",
        "--key", "header:X-API-Key")) {
      String base = demo.baseUrl();
      for (int i = 0; i < 5; i++) { // 3 allowed, 2 denied
        get(base + "/hello", "X-API-Key", "curl");
      }
      ticker.advance(Duration.ofSeconds(1));
      assertThat(get(base + "/hello", "X-API-Key", "curl").statusCode()).isEqualTo(429);
      assertThat(get(base + "/hello", "X-API-Key", "other").statusCode()).isEqualTo(200);
      assertThat(get(base + "/hello").statusCode()).as("no key: not counted").isEqualTo(403);
      assertThat(get(base + "/nope", "X-API-Key", "curl").statusCode()).isEqualTo(404);

      String zeros = "0,".repeat(58);
      assertThat(get(base + "/api/status", "X-API-Key", "curl").body())
          .contains(",\"history\":{\"seconds\":60,\"allowed\":[" + zeros + "3,0],"
              + "\"denied\":[" + zeros + "2,1]}}");
      assertThat(get(base + "/api/status", "X-API-Key", "other").body())
          .contains("\"allowed\":[" + zeros + "0,1],\"denied\":[" + zeros + "0,0]}");
      assertThat(demo.history().size()).isEqualTo(2);
      ticker.advance(Duration.ofSeconds(59));
      assertThat(get(base + "/api/status", "X-API-Key", "curl").body())
          .contains("\"allowed\":[0," + zeros + "0],\"denied\":[1," + zeros + "0]}");
    }
  }

  @Test
  void pathsAndMethods_limitTheRoutesChosen_404sToo() throws Exception {
    try (DemoServer demo = start(new ManualTicker(), "--port", "0", "--limit", "1/h",
        "--burst", "2", "--paths", "/nope/**,/hello", "--methods", "GET")) {
      String base = demo.baseUrl();
      assertThat(demo.banner()).contains("\n  Requests to /nope/**, /hello (GET) are limited to 1/h");
      HttpResponse<String> missing = get(base + "/nope/x");
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(missing.headers().firstValue("X-RateLimit-Remaining")).hasValue("1");
      HttpResponse<String> post = CLIENT.send(HttpRequest.newBuilder(URI.create(base + "/hello"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).as("POST is not limited: the servlet answers 405").isEqualTo(405);
      assertThat(post.headers().firstValue("X-RateLimit-Remaining")).isEmpty();
      assertThat(get(base + "/hello").headers().firstValue("X-RateLimit-Remaining")).hasValue("0");
      assertThat(get(base + "/nope").statusCode()).isEqualTo(429);
      assertThat(get(base + "/other").statusCode()).as("not in --paths").isEqualTo(404);
      assertThat(get(base + "/api/status").body()).as("the demo's routes stay exempt")
          .contains("\"remaining\":0,").contains("\"scope\":\"/nope/**, /hello (GET)\"");
    }
  }

  @Test
  void portInUse_startFails_messageNamesThePort() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      DemoOptions options = DemoOptions.parse(new String[] {"--port",
          Integer.toString(taken.getLocalPort())}, Map.<String, String>of()::get);
      Exception e = catchException(() -> DemoServer.start(options, new ManualTicker()));
      assertThat(e).isNotNull();
      assertThat(DemoServer.startFailure(options, e)).isEqualTo("port " + taken.getLocalPort()
          + " on 127.0.0.1 is in use (another server is listening there): choose another with"
          + " --port N, or --port 0 for any free port");
    }
  }

  @Test
  void headerKeyAndHeaderGroups_keylessRefusedAndOnlyChosenHeadersSent() throws Exception {
    try (DemoServer demo = start(new ManualTicker(), "--port", "0", "--limit", "1/h",
        "--key", "header:X-API-Key", "--headers", "xratelimit")) {
      String base = demo.baseUrl();
      assertThat(demo.banner()).contains("curl -i -H 'X-API-Key: demo' " + base + "/hello");
      assertThat(get(base + "/hello").statusCode()).isEqualTo(403);
      assertThat(get(base + "/api/status").body()).contains("\"keyHeader\":\"X-API-Key\"")
          .contains("\"remaining\":null");
      HttpResponse<String> ok = get(base + "/hello", "X-API-Key", "a");
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.headers().firstValue("RateLimit")).isEmpty();
      HttpResponse<String> refused = get(base + "/hello", "X-API-Key", "a");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.headers().firstValue("Retry-After")).isEmpty();
      assertThat(refused.headers().firstValue("X-RateLimit-Remaining")).hasValue("0");
      assertThat(get(base + "/hello", "X-API-Key", "b").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void trustedProxyFlag_forwardedClientsLimitedSeparately() throws Exception {
    try (DemoServer demo = start(new ManualTicker(), "--port", "0", "--limit", "1/h",
        "--trusted-proxies", "127.0.0.1/32")) {
      String base = demo.baseUrl();
      assertThat(get(base + "/hello", "X-Forwarded-For", "203.0.113.7").statusCode()).isEqualTo(200);
      assertThat(get(base + "/hello", "X-Forwarded-For", "203.0.113.7").statusCode()).isEqualTo(429);
      assertThat(get(base + "/hello", "X-Forwarded-For", "203.0.113.8").statusCode()).isEqualTo(200);
      assertThat(get(base + "/api/status", "X-Forwarded-For", "203.0.113.9").body())
          .contains("\"remaining\":1");
    }
  }

  @Test
  void helloDelay_outOfRange_400AndInRange_200() throws Exception {
    try (DemoServer demo = start(new ManualTicker(), "--port", "0", "--limit", "100/s")) {
      String base = demo.baseUrl();
      for (String bad : new String[] {"-1", "2001", "soon", ""}) {
        HttpResponse<String> r = get(base + "/hello?delay=" + bad);
        assertThat(r.statusCode()).as(bad).isEqualTo(400);
        assertThat(r.body()).isEqualTo("delay must be a number of milliseconds from 0 to 2000\n");
      }
      HttpResponse<String> ok = get(base + "/hello?delay=10");
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.body()).isEqualTo("Hello from Sluice!\n");
      assertThat(ok.headers().firstValue("X-RateLimit-Remaining")).as("each took a permit")
          .hasValue("95");
    }
  }
}
