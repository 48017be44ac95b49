package dev.sluice.examples;

import dev.sluice.Ticker;
import dev.sluice.servlet.RateLimitFilter;
import dev.sluice.servlet.Rule;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
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
 * limits in memory, no other service needed.
 *
 * <ul>
 *   <li>{@code GET /hello}: {@code 200 text/plain}, rate limited (rule {@code api}, every path
 *       except the exempt ones);</li>
 *   <li>{@code GET /}: a self-contained page (inline script and SVG, nothing fetched from
 *       elsewhere) showing the caller's remaining permits and a live chart of allowed and denied
 *       requests; exempt;</li>
 *   <li>{@code GET /api/status}: the caller's allowance as JSON, taking no permit; exempt.</li>
 * </ul>
 *
 * <p>Run {@code java -jar sluice-examples-<version>.jar --help} for the flags. On SIGTERM (or
 * Ctrl-C) Jetty stops gracefully, letting requests in flight finish for up to
 * {@value #STOP_TIMEOUT_MS} ms; the process then exits with status 0, or 1 if the stop failed.
 */
public final class DemoServer implements AutoCloseable {

  /** How long a stop waits for requests in flight. */
  static final long STOP_TIMEOUT_MS = 5_000;

  /** The rule's name, shown in the IETF headers and problem bodies. */
  static final String RULE = "api";

  private final DemoOptions options;
  private final Server server;
  private final RateLimitFilter filter;
  private final int port;

  private DemoServer(DemoOptions options, Server server, RateLimitFilter filter, int port) {
    this.options = options;
    this.server = server;
    this.filter = filter;
    this.port = port;
  }

  /**
   * Starts the demo server, prints its URL and two {@code curl} commands to try, and serves until
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
      System.err.println("sluice-demo: cannot start on " + options.host + ":" + options.port
          + ": " + e.getMessage());
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
   * Starts a server with these options on this ticker (tests pass a manual one).
   *
   * @return the running server
   * @throws Exception if Jetty cannot start (for example, the port is taken)
   */
  static DemoServer start(DemoOptions options, Ticker ticker) throws Exception {
    Objects.requireNonNull(options, "options");
    RateLimitFilter filter = RateLimitFilter.builder()
        .key(options.key)
        .rule(Rule.builder(RULE, options.limit).paths("/**").build())
        .exempt("/", "/api/status", "/favicon.ico")
        .headers(options.headers.toArray(new dev.sluice.servlet.HeaderGroup[0]))
        .ticker(ticker)
        .build();

    Server server = new Server();
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost(options.host);
    connector.setPort(options.port);
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler();
    context.addFilter(new FilterHolder(filter), "/*", EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(new ServletHolder(new PageServlet()), "");
    context.addServlet(new ServletHolder(new HelloServlet()), "/hello");
    context.addServlet(new ServletHolder(new StatusServlet(options, filter)), "/api/status");
    server.setHandler(new GracefulHandler(context));
    server.setStopTimeout(STOP_TIMEOUT_MS);
    server.setStopAtShutdown(false); // our own hook stops it, then sets the exit status
    try {
      server.start();
    } catch (Exception e) {
      filter.close();
      server.stop();
      throw e;
    }
    return new DemoServer(options, server, filter, connector.getLocalPort());
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
    return "Sluice demo listening on " + url + "/\n"
        + "  GET /hello is limited to " + options.limitText + " with bursts of "
        + options.limit.capacity() + " per " + who + "; headers: " + options.headersText() + "\n"
        + "Try:\n"
        + "  curl -i" + keyFlag + " " + url + "/hello\n"
        + "  for i in $(seq " + (options.limit.capacity() + 5) + "); do curl -s -o /dev/null"
        + " -w '%{http_code} '" + keyFlag + " " + url + "/hello; done; echo\n"
        + "Open " + url + "/ to watch the bucket drain and refill. Stop with Ctrl-C.\n";
  }

  /** Stops Jetty gracefully and closes the filter. */
  boolean stop() {
    boolean clean = true;
    try {
      server.stop();
    } catch (Exception e) {
      clean = false;
    }
    filter.close();
    return clean && server.isStopped();
  }

  @Override
  public void close() {
    stop();
  }

  private void stopOnSignal(PrintStream out) {
    boolean clean = stop();
    out.println(clean ? "Sluice demo stopped cleanly." : "Sluice demo: Jetty did not stop cleanly.");
    out.flush();
    // The JVM would exit with 128+15 after SIGTERM; a clean stop is a success.
    Runtime.getRuntime().halt(clean ? 0 : 1);
  }

  /** {@code GET /hello}: plain text. */
  private static final class HelloServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      resp.setContentType("text/plain;charset=utf-8");
      resp.setHeader("Cache-Control", "no-store");
      resp.getWriter().write("Hello from Sluice!\n");
    }
  }

  /** {@code GET /api/status}: the caller's allowance, taking nothing. */
  private static final class StatusServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient DemoOptions options;
    private final transient RateLimitFilter filter;

    StatusServlet(DemoOptions options, RateLimitFilter filter) {
      this.options = options;
      this.filter = filter;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      OptionalLong remaining = filter.availablePermits(req, RULE);
      String json = "{\"rule\":\"" + RULE + "\""
          + ",\"limit\":\"" + options.limitText + "\""
          + ",\"capacity\":" + options.limit.capacity()
          + ",\"fillSeconds\":" + options.limit.fillTime().toMillis() / 1000.0
          + ",\"key\":\"" + options.keyText + "\""
          + ",\"keyHeader\":" + (options.keyHeader == null ? "null" : "\"" + options.keyHeader + "\"")
          + ",\"headers\":\"" + options.headersText() + "\""
          + ",\"remaining\":" + (remaining.isPresent() ? Long.toString(remaining.getAsLong()) : "null")
          + "}";
      resp.setContentType("application/json");
      resp.setHeader("Cache-Control", "no-store");
      resp.getOutputStream().write(json.getBytes(StandardCharsets.UTF_8));
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
