package dev.sluice.examples;

import dev.sluice.Decision;
import dev.sluice.InMemoryStore;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import dev.sluice.micrometer.SluiceMetrics;
import dev.sluice.redis.RedisStore;
import dev.sluice.http.HeaderGroup;
import dev.sluice.servlet.RateLimitFilter;
import dev.sluice.http.Rule;
import dev.sluice.spi.StoreUnavailableException;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;

/**
 * The demo server: an HTTP API on embedded Jetty 12 with {@link RateLimitFilter} in front of it,
 * buckets in memory (no other service needed) or in Redis ({@code --redis}).
 *
 * <ul>
 *   <li>{@code GET /hello}: {@code 200 text/plain}, rate limited (rule {@code api}, on the paths
 *       of {@code --paths}, by default {@code /hello} only, so a mistyped path's 404 costs
 *       nothing); {@code ?delay=MS} answers after {@code MS} milliseconds (at most
 *       {@value #MAX_DELAY_MS}), to watch a graceful stop drain slow requests;</li>
 *   <li>{@code GET /}: a self-contained page (inline script and SVG, nothing fetched from
 *       elsewhere) showing the caller's remaining permits and a live chart of the caller's
 *       allowed and denied requests, its own and any other client's on the same key; exempt;</li>
 *   <li>{@code GET /api/status}: the caller's allowance and its last {@value History#SECONDS}
 *       seconds ({@link History}) as JSON, taking no permit; exempt;</li>
 *   <li>{@code GET /metrics}: the limiter's meters ({@link SluiceMetrics}) in the Prometheus text
 *       format; exempt.</li>
 * </ul>
 *
 * <p>Run {@code java -jar sluice-examples-<version>.jar --help} for the flags. On SIGTERM (or
 * Ctrl-C) Jetty stops accepting connections and lets requests in flight finish for up to
 * {@value #STOP_TIMEOUT_MS} ms; then the limiter and the Redis client (if any) are closed, and
 * the process exits with status 0, or 1 if Jetty did not stop cleanly.
 */
public final class DemoServer implements AutoCloseable {

  /** How long a stop waits for requests in flight. */
  static final long STOP_TIMEOUT_MS = 5_000;

  /** The longest {@code /hello?delay=} accepted, well within {@link #STOP_TIMEOUT_MS}. */
  static final long MAX_DELAY_MS = 2_000;

  /** The rule's name, shown in the IETF headers and problem bodies; also the limiter's name. */
  static final String RULE = "api";

  /** The Prometheus text exposition format, version 0.0.4. */
  static final String METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** The demo's own routes, never limited whatever {@code --paths} says. */
  static final List<String> EXEMPT = List.of("/", "/api/status", "/metrics", "/favicon.ico");

  /** How often the in-memory store drops buckets that have been full for a fill time. */
  private static final Duration CLEANER_INTERVAL = Duration.ofSeconds(1);

  private final DemoOptions options;
  private final Server server;
  private final RateLimitFilter filter;
  private final RateLimiter<String> limiter;
  /** Null when the buckets are in memory. */
  private final RedisStore.Factory redisStores;
  private final PrometheusMeterRegistry registry;
  private final History history;
  private final boolean storeAnswered;
  private final int port;

  private DemoServer(DemoOptions options, Server server, RateLimitFilter filter,
      RateLimiter<String> limiter, RedisStore.Factory redisStores,
      PrometheusMeterRegistry registry, History history, boolean storeAnswered, int port) {
    this.options = options;
    this.server = server;
    this.filter = filter;
    this.limiter = limiter;
    this.redisStores = redisStores;
    this.registry = registry;
    this.history = history;
    this.storeAnswered = storeAnswered;
    this.port = port;
  }

  /**
   * Starts the demo server, prints its URL and three {@code curl} commands to try, and serves until
   * the process is stopped.
   *
   * @param args the flags; {@code --help} lists them
   */
  public static void main(String[] args) {
    DemoOptions options;
    try {
      options = DemoOptions.parse(args, System::getenv);
    } catch (IllegalArgumentException e) {
      System.err.println("sluice-demo: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (options.help) {
      System.out.print(DemoOptions.USAGE);
      return;
    }
    DemoServer demo;
    try {
      demo = start(options, Ticker.system());
    } catch (Exception e) {
      System.err.println("sluice-demo: " + startFailure(options, e));
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> demo.stopOnSignal(System.out),
        "sluice-demo-shutdown"));
    System.out.print(demo.banner());
    System.out.flush();
    try {
      demo.server.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Starts a server with these options on this ticker (tests pass a manual one; a Redis store
   * reads Redis's clock instead, but its failure mode's local buckets use the ticker).
   *
   * @return the running server
   * @throws Exception if Jetty cannot start (for example, the port is taken)
   */
  static DemoServer start(DemoOptions options, Ticker ticker) throws Exception {
    Objects.requireNonNull(options, "options");
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    if (options.redis != null) {
      // A Redis store cannot count its keys (size() is -1): no gauge rather than a false one.
      registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("sluice.keys")));
    }
    SluiceMetrics metrics = new SluiceMetrics(registry);
    RedisStore.Factory redisStores =
        options.redis == null ? null : options.redisLeasing == null
            ? RedisStore.factory(options.redis).deadline(options.redisDeadline)
            : RedisStore.factory(options.redis).deadline(options.redisDeadline)
                .leasing(options.redisLeasing);
    RateLimiter<String> limiter;
    try {
      limiter = RateLimiter.builder(options.limit).name(RULE)
          .store(redisStores != null ? redisStores
              : InMemoryStore.factory().cleaner(CLEANER_INTERVAL))
          .failureMode(options.failureMode)
          .ticker(ticker)
          .listener(metrics)
          .build();
    } catch (RuntimeException e) {
      if (redisStores != null) {
        redisStores.close();
      }
      registry.close();
      throw e;
    }
    metrics.bind(limiter);
    boolean storeAnswered = redisStores == null || answers(redisStores, options, ticker);

    History history = new History(ticker, History.MAX_KEYS);
    // The filter draws on our limiter and never closes it: stop() does, after Jetty has drained.
    RateLimitFilter filter = RateLimitFilter.builder()
        .key(options.key)
        .rule(Rule.builder(limiter).paths(options.paths.toArray(new String[0]))
            .methods(options.methods.toArray(new String[0])).maxWait(options.maxWait).build())
        .exempt(EXEMPT.toArray(new String[0]))
        .headers(options.headers.toArray(new HeaderGroup[0]))
        .rejectionHandler(history.denied(options.key, DecisionSource.rejectionHandler()))
        .build();

    Server server = new Server();
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost(options.host);
    connector.setPort(options.port);
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler();
    // ASYNC too: a request queued by --max-wait comes back as an async dispatch when it is due
    EnumSet<DispatcherType> request = EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC);
    context.addFilter(new FilterHolder(filter), "/*", request);
    context.addFilter(new FilterHolder(history.admitted(options.key)), "/*", request);
    context.addServlet(new ServletHolder(new PageServlet()), "");
    context.addServlet(new ServletHolder(new HelloServlet()), "/hello");
    context.addServlet(new ServletHolder(new StatusServlet(options, filter, history)),
        "/api/status");
    context.addServlet(new ServletHolder(new MetricsServlet(registry)), "/metrics");
    server.setHandler(new GracefulHandler(context));
    server.setStopTimeout(STOP_TIMEOUT_MS);
    server.setStopAtShutdown(false); // our own hook stops it, then sets the exit status
    try {
      server.start();
    } catch (Exception e) {
      try {
        server.stop();
      } catch (Exception stopFailed) {
        e.addSuppressed(stopFailed);
      }
      filter.close();
      limiter.close();
      if (redisStores != null) {
        redisStores.close();
      }
      registry.close();
      throw e;
    }
    return new DemoServer(options, server, filter, limiter, redisStores, registry, history,
        storeAnswered, connector.getLocalPort());
  }

  /**
   * Why the server could not start, for people: a port in use is named as such (Jetty reports
   * it as a {@link BindException} under an {@link IOException}), as is an address that cannot be
   * bound.
   */
  static String startFailure(DemoOptions options, Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException) {
        String why = String.valueOf(t.getMessage());
        if (why.toLowerCase(Locale.ROOT).contains("in use")) {
          return "port " + options.port + " on " + options.host + " is in use (another server is"
              + " listening there): choose another with --port N, or --port 0 for any free port";
        }
        return "cannot listen on " + options.host + ":" + options.port + ": " + why
            + " (check --host and --port)";
      }
      if (t instanceof UnresolvedAddressException) {
        return "--host \"" + options.host + "\" is not an address or a host name that resolves";
      }
    }
    return "cannot start on " + options.host + ":" + options.port + ": " + e;
  }

  /**
   * Whether Redis answers now: one read through a store of its own on the factory's connection
   * (the limiter's own reads are answered by its failure mode when Redis does not).
   */
  private static boolean answers(RedisStore.Factory redisStores, DemoOptions options,
      Ticker ticker) {
    // A cold connection (and a busy machine) can miss the first calls' deadline: warm it for up
    // to five seconds, so the first requests find it ready, before saying Redis does not answer.
    long until = System.nanoTime() + 5_000_000_000L;
    Policy policy = Policy.of(options.limit);
    try (RedisStore<String> probe = redisStores.create(RULE, policy, ticker)) {
      while (true) {
        try {
          probe.availablePermits("sluice-demo-probe", policy); // takes nothing
          return true;
        } catch (StoreUnavailableException e) {
          if (System.nanoTime() - until > 0) {
            return false;
          }
          try {
            Thread.sleep(50);
          } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return false;
          }
        }
      }
    }
  }

  /** The limiter behind the {@code api} rule (tests check that a stop closes it). */
  RateLimiter<String> limiter() {
    return limiter;
  }

  /** The Redis store factory, or null when the buckets are in memory. */
  RedisStore.Factory redisStores() {
    return redisStores;
  }

  /** The callers' recent requests, as {@code /api/status} shows them. */
  History history() {
    return history;
  }

  /** The port actually bound. */
  int port() {
    return port;
  }

  /** The base URL, e.g. {@code http://127.0.0.1:8080}. */
  String baseUrl() {
    String h = options.host;
    if (h.equals("0.0.0.0") || h.equals("::") || h.isEmpty()) {
      h = "localhost";
    } else if (h.indexOf(':') >= 0) {
      h = "[" + h + "]";
    }
    return "http://" + h + ":" + port;
  }

  /** What the server prints when it has started. */
  String banner() {
    String url = baseUrl();
    String keyFlag = "";
    String who = "client IP";
    if (options.keyHeader != null) {
      keyFlag = options.keyHeader.equals("Authorization")
          ? " -H 'Authorization: Bearer demo'" : " -H '" + options.keyHeader + ": demo'";
      who = options.keyHeader.equals("Authorization") ? "bearer token"
          : options.keyHeader + " header";
    }
    String store = options.redis == null
        ? "  Buckets in memory (--redis redis://host:6379 shares them between servers)\n"
        : "  Buckets in " + options.storeText()
            + (options.redisLeasing == null ? ""
                : ", hot keys leased for " + options.redisLeasing.toMillis() + " ms")
            + "; failure mode " + options.failureModeText()
            + (storeAnswered ? ""
                : " (Redis does not answer yet: the failure mode decides until it does)")
            + "\n";
    return "Sluice demo listening on " + url + "/\n"
        + "  Requests to " + options.scopeText() + " are limited to " + options.limitText
        + " with bursts of " + options.limit.capacity() + " per " + who
        + (options.maxWait.isZero() ? "" : ", excess requests queued up to " + options.maxWaitText)
        + "; headers: "
        + options.headersText() + "\n"
        + store
        + "Try:\n"
        + "  curl -i" + keyFlag + " " + url + "/hello\n"
        + "  for i in $(seq " + (options.limit.capacity() + 5) + "); do curl -s -o /dev/null"
        + " -w '%{http_code} '" + keyFlag + " " + url + "/hello; done; echo\n"
        + "  curl -s " + url + "/metrics | grep '^sluice_'\n"
        + "Open " + url + "/ to watch the bucket drain and refill. Stop with Ctrl-C.\n";
  }

  /**
   * Stops Jetty gracefully (no new connections; requests in flight finish, for up to
   * {@value #STOP_TIMEOUT_MS} ms), then closes what decided them: the filter, the limiter (its
   * store finishes its own calls in flight within its deadline), the Redis client, the metrics.
   * Idempotent.
   *
   * @return whether Jetty stopped cleanly
   */
  boolean stop() {
    boolean clean = true;
    try {
      server.stop();
    } catch (Exception e) {
      clean = false;
    }
    filter.close();
    limiter.close();
    if (redisStores != null) {
      redisStores.close();
    }
    registry.close();
    return clean && server.isStopped();
  }

  @Override
  public void close() {
    stop();
  }

  private void stopOnSignal(PrintStream out) {
    long start = System.nanoTime();
    boolean clean = stop();
    long ms = (System.nanoTime() - start) / 1_000_000;
    out.println(clean ? "Sluice demo stopped cleanly in " + ms + " ms."
        : "Sluice demo: Jetty did not stop cleanly within " + STOP_TIMEOUT_MS + " ms.");
    out.flush();
    // The JVM would exit with 128+15 after SIGTERM; a clean stop is a success.
    Runtime.getRuntime().halt(clean ? 0 : 1);
  }

  /** {@code GET /hello}: plain text, after {@code ?delay=MS} if asked. */
  private static final class HelloServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      Decision.Source source = DecisionSource.of(req);
      if (source != null) {
        resp.setHeader(DecisionSource.HEADER, DecisionSource.text(source));
      }
      resp.setHeader("Cache-Control", "no-store");
      String delay = req.getParameter("delay");
      if (delay != null) {
        long ms;
        try {
          ms = Long.parseLong(delay);
        } catch (NumberFormatException e) {
          ms = -1;
        }
        if (ms < 0 || ms > MAX_DELAY_MS) {
          resp.setStatus(HttpServletResponse.SC_BAD_REQUEST);
          resp.setContentType("text/plain;charset=utf-8");
          resp.getWriter().write("delay must be a number of milliseconds from 0 to " + MAX_DELAY_MS
              + "\n");
          return;
        }
        try {
          Thread.sleep(ms); // a slow handler, for watching a graceful stop drain it
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      resp.setContentType("text/plain;charset=utf-8");
      resp.getWriter().write("Hello from Sluice!\n");
    }
  }

  /** {@code GET /api/status}: the caller's allowance, taking nothing. */
  private static final class StatusServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient DemoOptions options;
    private final transient RateLimitFilter filter;
    private final transient History history;

    StatusServlet(DemoOptions options, RateLimitFilter filter, History history) {
      this.options = options;
      this.filter = filter;
      this.history = history;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      // while the store is unavailable, the failure mode answers this too
      OptionalLong remaining = filter.availablePermits(req, RULE);
      String json = "{\"rule\":\"" + RULE + "\""
          + ",\"limit\":\"" + options.limitText + "\""
          + ",\"capacity\":" + options.limit.capacity()
          + ",\"fillSeconds\":" + options.limit.fillTime().toMillis() / 1000.0
          + ",\"key\":\"" + options.keyText + "\""
          + ",\"keyHeader\":" + (options.keyHeader == null ? "null" : "\"" + options.keyHeader + "\"")
          + ",\"headers\":\"" + options.headersText() + "\""
          + ",\"remaining\":" + (remaining.isPresent() ? Long.toString(remaining.getAsLong()) : "null")
          + ",\"store\":\"" + options.storeText().replace("\\", "\\\\").replace("\"", "\\\"") + "\""
          + ",\"failureMode\":\"" + options.failureModeText() + "\""
          + ",\"scope\":\"" + options.scopeText().replace("\\", "\\\\").replace("\"", "\\\"") + "\""
          + ",\"history\":" + history.snapshot(options.key.resolve(RateLimitFilter.requestView(req))).json()
          + "}";
      resp.setContentType("application/json");
      resp.setHeader("Cache-Control", "no-store");
      resp.getOutputStream().write(json.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** {@code GET /metrics}: every meter of the registry in the Prometheus text format. */
  private static final class MetricsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient PrometheusMeterRegistry registry;

    MetricsServlet(PrometheusMeterRegistry registry) {
      this.registry = registry;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      resp.setContentType(METRICS_CONTENT_TYPE);
      resp.setHeader("Cache-Control", "no-store");
      resp.setContentLength(body.length);
      resp.getOutputStream().write(body);
    }
  }

  /** {@code GET /}: the page. */
  private static final class PageServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final byte[] PAGE = load();

    private static byte[] load() {
      try (InputStream in = DemoServer.class.getResourceAsStream("index.html")) {
        if (in == null) {
          throw new IllegalStateException("index.html is missing from the jar");
        }
        return in.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      resp.setContentType("text/html;charset=utf-8");
      resp.setHeader("Cache-Control", "no-store");
      resp.setHeader("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; "
          + "style-src 'unsafe-inline'; connect-src 'self'; img-src data:");
      resp.setContentLength(PAGE.length);
      resp.getOutputStream().write(PAGE);
    }
  }
}
