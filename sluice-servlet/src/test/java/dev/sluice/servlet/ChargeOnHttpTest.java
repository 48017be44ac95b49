package dev.sluice.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.http.KeyResolver;
import dev.sluice.http.RequestView;
import dev.sluice.http.Rule;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Charge-on rules in a real Jetty with a real client: taken before the response, given back
 * after it when the final status does not match (sync, async, thrown, error pages), exactly once.
 * The ticker stands still, so every give-back is exact. No sleeps: latches and bounded waits.
 */
class ChargeOnHttpTest {

  private static final long WAIT_SECONDS = 10;

  /**
   * The outermost filter: counts requests whose handling (ours included: it runs inside) has
   * ended, so a test can wait for the rate-limit filter's completion before looking at permits.
   */
  static final class Finished implements Filter {
    private int count;

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
        throws IOException, ServletException {
      if (req.getDispatcherType() != jakarta.servlet.DispatcherType.REQUEST) {
        chain.doFilter(req, res);
        return;
      }
      try {
        chain.doFilter(req, res);
      } finally {
        if (req.isAsyncStarted()) {
          // added after the rate-limit filter's listener, so notified after it
          req.getAsyncContext().addListener(new AsyncListener() {
            @Override
            public void onComplete(AsyncEvent e) {
              finish();
            }

            @Override
            public void onTimeout(AsyncEvent e) {}

            @Override
            public void onError(AsyncEvent e) {}

            @Override
            public void onStartAsync(AsyncEvent e) {
              e.getAsyncContext().addListener(this);
            }
          });
        } else {
          finish();
        }
      }
    }

    private synchronized void finish() {
      count++;
      notifyAll();
    }

    /** Waits (bounded) until {@code n} requests have finished. */
    synchronized void await(int n) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
      while (count < n) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError("only " + count + " of " + n + " requests finished");
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  /** {@code /status/<code>}: answers that status; {@code ?send} uses sendError (an error page). */
  static final class StatusServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      int status = Integer.parseInt(req.getPathInfo().substring(1));
      if (req.getParameter("send") != null) {
        resp.sendError(status);
      } else {
        resp.setStatus(status);
        resp.getWriter().write("status " + status);
      }
    }
  }

  /** {@code /throw}: the application fails. */
  static final class ThrowingServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) {
      throw new IllegalStateException("the application failed");
    }
  }

  /** {@code /slow}: signals it is running, then waits for the test to let it answer 200. */
  static final class SlowServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    final transient CountDownLatch entered = new CountDownLatch(1);
    final transient CountDownLatch release = new CountDownLatch(1);

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      entered.countDown();
      try {
        if (!release.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
          resp.setStatus(504);
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      resp.getWriter().write("slow done");
    }
  }

  /** {@code /async}: goes async and hands its context to the test, which answers later. */
  static final class AsyncServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    final transient BlockingQueue<AsyncContext> started = new LinkedBlockingQueue<>();

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) {
      AsyncContext ctx = req.startAsync();
      ctx.setTimeout(TimeUnit.SECONDS.toMillis(WAIT_SECONDS * 3));
      started.add(ctx);
    }

    AsyncContext next() throws InterruptedException {
      AsyncContext ctx = started.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(ctx).as("the async request reached the servlet").isNotNull();
      return ctx;
    }
  }

  /** The test's own view of a request from {@code user}, for looking at permits directly. */
  static RequestView user(String user) {
    return new RequestView() {
      @Override
      public String method() {
        return "GET";
      }

      @Override
      public String path() {
        return "/";
      }

      @Override
      public List<String> headers(String name) {
        return name.equalsIgnoreCase("X-User") ? List.of(user) : List.of();
      }

      @Override
      public String remoteAddress() {
        return "127.0.0.1";
      }

      @Override
      public String principal() {
        return null;
      }
    };
  }

  static long available(RateLimitFilter filter, String user, String rule) {
    return filter.limiter().availablePermits(user(user), rule).orElseThrow();
  }

  private static RateLimitFilter filter(long capacity, int... statuses) {
    return RateLimitFilter.builder().key(KeyResolver.header("X-User"))
        .rule(Rule.builder("login", Limit.perHour(capacity)).chargeOn(statuses).build())
        .ticker(new ManualTicker()).build();
  }

  private static Map<String, HttpServlet> servlets(HttpServlet... extra) {
    Map<String, HttpServlet> m = new java.util.HashMap<>();
    m.put("/status/*", new StatusServlet());
    m.put("/throw", new ThrowingServlet());
    for (HttpServlet s : extra) {
      m.put(s instanceof SlowServlet ? "/slow" : "/async", s);
    }
    return m;
  }

  /** (a) Only failed logins count: 200s never exhaust the rule, 401s and 403s do, at capacity. */
  @Test
  void chargeOn401And403_successesNeverExhaust_failuresDoAtCapacity() throws Exception {
    RateLimitFilter filter = filter(2, 401, 403);
    Finished finished = new Finished();
    try (filter; TestServer server = TestServer.start(servlets(), finished, filter)) {
      for (int i = 0; i < 10; i++) {
        assertThat(server.get("/status/200", "X-User", "ann").statusCode()).as("200 #%d", i)
            .isEqualTo(200);
      }
      finished.await(10);
      assertThat(available(filter, "ann", "login")).as("ten 200s charged nothing").isEqualTo(2);
      assertThat(server.get("/status/401", "X-User", "ann").statusCode()).isEqualTo(401);
      HttpResponse<String> sent = server.get("/status/403?send", "X-User", "ann");
      assertThat(sent.statusCode()).isEqualTo(403);
      assertThat(sent.body()).as("sendError went through the error page").isEqualTo("error 403");
      finished.await(12);
      assertThat(available(filter, "ann", "login")).isZero();
      HttpResponse<String> refused = server.get("/status/200", "X-User", "ann");
      assertThat(refused.statusCode()).as("exhausted by two failures").isEqualTo(429);
      assertThat(server.get("/status/200", "X-User", "bob").statusCode())
          .as("another key is untouched").isEqualTo(200);
    }
  }

  /** An exception is a 500 (charged by chargeOn(500)), once, although an error page follows. */
  @Test
  void chargeOn500_applicationThrows_chargedOnceDespiteTheErrorDispatch() throws Exception {
    RateLimitFilter filter = filter(3, 500);
    Finished finished = new Finished();
    try (filter; TestServer server = TestServer.start(servlets(), finished, filter)) {
      HttpResponse<String> failed = server.get("/throw", "X-User", "cy");
      assertThat(failed.statusCode()).isEqualTo(500);
      assertThat(failed.body()).isEqualTo("error 500");
      assertThat(server.get("/status/500?send", "X-User", "cy").statusCode()).isEqualTo(500);
      assertThat(server.get("/status/404?send", "X-User", "cy").statusCode()).isEqualTo(404);
      finished.await(3);
      assertThat(available(filter, "cy", "login"))
          .as("two 500s charged one permit each; the 404 and the error pages nothing")
          .isEqualTo(1);
    }
  }

  @Test
  void chargeOn401_applicationThrows_countsAs500_givenBack() throws Exception {
    RateLimitFilter filter = filter(1, 401);
    Finished finished = new Finished();
    try (filter; TestServer server = TestServer.start(servlets(), finished, filter)) {
      for (int i = 0; i < 3; i++) {
        assertThat(server.get("/throw", "X-User", "dee").statusCode()).isEqualTo(500);
      }
      finished.await(3);
      assertThat(available(filter, "dee", "login")).isEqualTo(1);
    }
  }

  /** (b) A pending response holds its permit; once it ends with 200 the permit is back. */
  @Test
  void pendingResponse_holdsItsPermit_concurrentRequestRefused_thenGivenBack()
      throws Exception {
    RateLimitFilter filter = filter(1, 401);
    Finished finished = new Finished();
    SlowServlet slow = new SlowServlet();
    try (filter; TestServer server = TestServer.start(servlets(slow), finished, filter)) {
      CompletableFuture<HttpResponse<String>> first = TestServer.CLIENT.sendAsync(
          java.net.http.HttpRequest.newBuilder(server.uri("/slow")).header("X-User", "eve")
              .timeout(java.time.Duration.ofSeconds(WAIT_SECONDS * 2)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(slow.entered.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
      HttpResponse<String> concurrent = server.get("/status/200", "X-User", "eve");
      assertThat(concurrent.statusCode()).as("the pending request's permit counts")
          .isEqualTo(429);
      assertThat(available(filter, "eve", "login")).isZero();
      slow.release.countDown();
      HttpResponse<String> done = first.get(WAIT_SECONDS * 2, TimeUnit.SECONDS);
      assertThat(done.statusCode()).isEqualTo(200);
      finished.await(2);
      assertThat(available(filter, "eve", "login")).as("given back after the 200").isEqualTo(1);
      assertThat(server.get("/status/200", "X-User", "eve").statusCode()).isEqualTo(200);
    }
  }

  /** (c) An async request is settled when it completes, with its final status, once. */
  @Test
  void asyncRequest_completedLater_403Charged_200GivenBack_once() throws Exception {
    RateLimitFilter filter = filter(2, 403);
    Finished finished = new Finished();
    AsyncServlet async = new AsyncServlet();
    try (filter; TestServer server = TestServer.start(servlets(async), finished, filter)) {
      CompletableFuture<HttpResponse<String>> forbidden = sendAsync(server, "/async", "fay");
      AsyncContext ctx = async.next();
      assertThat(available(filter, "fay", "login")).as("taken while pending").isEqualTo(1);
      ((HttpServletResponse) ctx.getResponse()).setStatus(403);
      ctx.complete();
      assertThat(forbidden.get(WAIT_SECONDS, TimeUnit.SECONDS).statusCode()).isEqualTo(403);
      finished.await(1);
      assertThat(available(filter, "fay", "login")).as("403: charged").isEqualTo(1);

      CompletableFuture<HttpResponse<String>> ok = sendAsync(server, "/async", "fay");
      ctx = async.next();
      assertThat(available(filter, "fay", "login")).isZero();
      ctx.getResponse().getWriter().write("later");
      ctx.complete();
      assertThat(ok.get(WAIT_SECONDS, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      finished.await(2);
      assertThat(available(filter, "fay", "login")).as("200: given back, once").isEqualTo(1);

      // dispatched back into the container (an ASYNC dispatch passes the filter), ends in 403
      CompletableFuture<HttpResponse<String>> dispatched = sendAsync(server, "/async", "fay");
      async.next().dispatch("/status/403");
      assertThat(dispatched.get(WAIT_SECONDS, TimeUnit.SECONDS).statusCode()).isEqualTo(403);
      finished.await(3);
      assertThat(available(filter, "fay", "login")).as("charged once, not per dispatch")
          .isZero();
    }
  }

  private static CompletableFuture<HttpResponse<String>> sendAsync(
      TestServer server, String path, String user) {
    return TestServer.CLIENT.sendAsync(
        java.net.http.HttpRequest.newBuilder(server.uri(path)).header("X-User", user)
            .timeout(java.time.Duration.ofSeconds(WAIT_SECONDS * 2)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
