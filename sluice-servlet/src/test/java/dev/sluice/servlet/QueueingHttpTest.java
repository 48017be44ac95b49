package dev.sluice.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.http.KeyResolver;
import dev.sluice.http.Rule;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Queueing over a real Jetty and {@link java.net.http.HttpClient}, on the real clock: queued
 * requests reach the servlet never before their permits are due, a request is refused only if it
 * could not be served within the rule's wait, and a waiting request holds no lock. Only what the
 * code guarantees is asserted (lower bounds in time, counts that hold however slow the machine).
 */
class QueueingHttpTest {

  private static final long INTERVAL_NANOS = 100_000_000L; // 10 per second, capacity 1
  private static final int REQUESTS = 7;

  /** Records when each request reached the application. */
  private static final class Recorder extends HttpServlet {
    private static final long serialVersionUID = 1L;
    final transient ConcurrentLinkedQueue<Long> arrivals = new ConcurrentLinkedQueue<>();
    final transient ConcurrentLinkedQueue<DispatcherType> dispatches =
        new ConcurrentLinkedQueue<>();

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      arrivals.add(System.nanoTime());
      dispatches.add(req.getDispatcherType());
      resp.setContentType("text/plain");
      resp.getWriter().write("served");
    }
  }

  private static RateLimitFilter queueing(Duration maxWait) {
    return RateLimitFilter.builder()
        .rule(Rule.builder("q", Limit.perSecond(10).withCapacity(1)).paths("/q/**")
            .maxWait(maxWait).build())
        .build();
  }

  @Test
  void asyncRequests_queuedServedNeverEarly_refusedOnlyBeyondMaxWait() throws Exception {
    Recorder app = new Recorder();
    try (TestServer server = TestServer.start(Map.of("/q/*", app), queueing(
        Duration.ofMillis(350)))) {
      burst(server, app);
    }
    assertThat(app.dispatches).as("queued requests resumed by an async dispatch")
        .contains(DispatcherType.ASYNC);
  }

  @Test
  void parkedRequests_queuedServedNeverEarly_refusedOnlyBeyondMaxWait() throws Exception {
    // The plain server is not async-capable: the filter parks the container thread instead.
    Recorder app = new Recorder();
    try (TestServer server = TestServer.startPlain(app, queueing(Duration.ofMillis(350)))) {
      burst(server, app);
    }
    assertThat(app.dispatches).as("parked, never resumed asynchronously")
        .containsOnly(DispatcherType.REQUEST);
  }

  /**
   * {@value #REQUESTS} requests at once on one key: the k-th to reach the application (from 0)
   * does so no earlier than {@code k} intervals after the burst began (the bucket starts with one
   * permit); the first four decided can wait at most 300 ms, so at least four are served; a
   * refusal is a 429 with {@code Retry-After}; and no more are served than the bucket could have
   * served by the last decision plus the wait.
   */
  private static void burst(TestServer server, Recorder app) throws Exception {
    long begin = System.nanoTime();
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
          + "/q/" + i)).timeout(Duration.ofSeconds(60)).build();
      sent.add(TestServer.CLIENT.sendAsync(r, HttpResponse.BodyHandlers.ofString()));
    }
    int served = 0;
    for (CompletableFuture<HttpResponse<String>> f : sent) {
      HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isIn(200, 429);
      if (r.statusCode() == 200) {
        served++;
        assertThat(r.body()).isEqualTo("served");
        assertThat(r.headers().firstValue("X-RateLimit-Remaining")).hasValue("0");
      } else {
        assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
      }
    }
    long end = System.nanoTime();
    List<Long> arrivals = new ArrayList<>(app.arrivals);
    arrivals.sort((a, b) -> Long.compare(a - begin, b - begin));
    assertThat(arrivals).hasSize(served);
    for (int k = 0; k < arrivals.size(); k++) {
      assertThat(arrivals.get(k) - begin).as("arrival %d never early", k)
          .isGreaterThanOrEqualTo(k * INTERVAL_NANOS);
    }
    assertThat(served).as("the first four decided wait at most 300 ms").isGreaterThanOrEqualTo(4);
    long bound = 1 + (end - begin + 350_000_000L) / INTERVAL_NANOS;
    assertThat((long) served).isLessThanOrEqualTo(Math.min(REQUESTS, bound));
  }

  @Test
  void aWaitingRequest_holdsNoLock_anotherKeyOnTheSameStripeProceeds() throws Exception {
    // Two rules, so the striped lock is used; "all" shares one bucket (one stripe) between keys.
    RateLimitFilter filter = RateLimitFilter.builder()
        .key(KeyResolver.header("X-Client"))
        .rule(Rule.builder("q", Limit.perMinute(12).withCapacity(1)) // one every 5 s
            .maxWait(Duration.ofSeconds(30)).build())
        .rule(Rule.builder("all", Limit.perHour(1_000)).key(r -> Optional.of("everyone"))
            .build())
        .build();
    Recorder app = new Recorder();
    try (TestServer server = TestServer.start(Map.of("/q/*", app), filter)) {
      long a1 = System.nanoTime(); // before a1 is decided: a2 is due 5 s after that decision
      assertThat(server.get("/q/a1", "X-Client", "a").statusCode()).isEqualTo(200);
      HttpRequest second = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + server.port() + "/q/a2")).header("X-Client", "a")
          .timeout(Duration.ofSeconds(60)).build();
      CompletableFuture<HttpResponse<String>> a2 =
          TestServer.CLIENT.sendAsync(second, HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> b = server.get("/q/b", "X-Client", "b");
      assertThat(b.statusCode()).isEqualTo(200);
      assertThat(a2).as("b was served while a2 waits its 5 s").isNotDone();
      HttpResponse<String> waited = a2.get(60, TimeUnit.SECONDS);
      assertThat(waited.statusCode()).isEqualTo(200);
      assertThat(System.nanoTime() - a1).as("a2 never early")
          .isGreaterThanOrEqualTo(5_000_000_000L);
    }
  }
}
