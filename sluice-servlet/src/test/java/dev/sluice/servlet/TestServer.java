package dev.sluice.servlet;

import dev.sluice.http.*;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.ee10.servlet.ErrorPageErrorHandler;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A real Jetty 12 on 127.0.0.1, an ephemeral port, with filters in front of a servlet that
 * answers {@code 200 ok <path>} (and {@code /forward}, which forwards to {@code /hello}), plus a
 * real {@link HttpClient} and a raw-socket client for bytes HttpClient refuses to send.
 */
final class TestServer implements AutoCloseable {

  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  private final Server server;
  private final int port;

  private TestServer(Server server, int port) {
    this.server = server;
    this.port = port;
  }

  static TestServer start(Filter... filters) throws Exception {
    return start(8 * 1024, filters);
  }

  static TestServer start(int requestHeaderSize, Filter... filters) throws Exception {
    return start(requestHeaderSize, Map.of(), filters);
  }

  /**
   * A server on which nothing is async-capable, the filters applied to requests only, with {@code app} answering every path.
   */
  static TestServer startPlain(HttpServlet app, Filter... filters) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    for (Filter f : filters) {
      FilterHolder holder = new FilterHolder(f);
      holder.setAsyncSupported(false);
      context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST));
    }
    ServletHolder holder = new ServletHolder(app);
    holder.setAsyncSupported(false);
    context.addServlet(holder, "/");
    server.setHandler(context);
    server.start();
    return new TestServer(server, connector.getLocalPort());
  }

  /**
   * With {@code servlets} mapped by path as well, every servlet and filter async-capable, the
   * filters applied to every dispatch type (request, forward, async, error), and an error page
   * at {@code /error} (a servlet answering {@code error <status>}) for statuses 400 to 599 and
   * exceptions: so that tests see the dispatches that follow a request.
   */
  static TestServer start(Map<String, HttpServlet> servlets, Filter... filters) throws Exception {
    return start(8 * 1024, servlets, filters);
  }

  private static TestServer start(
      int requestHeaderSize, Map<String, HttpServlet> servlets, Filter... filters)
      throws Exception {
    boolean full = !servlets.isEmpty();
    Server server = new Server();
    HttpConfiguration config = new HttpConfiguration();
    config.setRequestHeaderSize(requestHeaderSize);
    config.setSendServerVersion(false);
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(config));
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    RateLimitFilter rateLimitFilter = null;
    for (Filter f : filters) {
      if (f instanceof RateLimitFilter) {
        rateLimitFilter = (RateLimitFilter) f;
      }
      FilterHolder holder = new FilterHolder(f);
      holder.setAsyncSupported(full);
      context.addFilter(holder, "/*", full ? EnumSet.allOf(DispatcherType.class)
          : EnumSet.of(DispatcherType.REQUEST, DispatcherType.FORWARD));
    }
    context.addServlet(new ServletHolder(new EchoServlet(rateLimitFilter)), "/");
    if (full) {
      for (Map.Entry<String, HttpServlet> e : servlets.entrySet()) {
        ServletHolder holder = new ServletHolder(e.getValue());
        holder.setAsyncSupported(true);
        context.addServlet(holder, e.getKey());
      }
      context.addServlet(new ServletHolder(new ErrorServlet()), "/error");
      ErrorPageErrorHandler errors = new ErrorPageErrorHandler();
      errors.addErrorPage(400, 599, "/error");
      errors.addErrorPage(Throwable.class, "/error");
      context.setErrorHandler(errors);
    }
    server.setHandler(context);
    server.start();
    return new TestServer(server, connector.getLocalPort());
  }

  /** The filter's {@code availablePermits} for this client and {@code rule}, over HTTP. */
  long available(String rule, String... headers) throws Exception {
    HttpResponse<String> r = get("/_available/" + rule, headers);
    if (r.statusCode() != 200) {
      throw new AssertionError("/_available/" + rule + " answered " + r.statusCode());
    }
    return Long.parseLong(r.body());
  }

  int port() {
    return port;
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  /** GET with header name/value pairs. */
  HttpResponse<String> get(String path, String... headers) throws Exception {
    return send("GET", path, headers);
  }

  HttpResponse<String> send(String method, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10))
        .method(method, HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Sends raw request bytes from {@code localAddress} (any 127.x.y.z works on Linux loopback) and
   * returns the status line and headers of the response.
   */
  RawResponse raw(String localAddress, byte[] request) throws IOException {
    try (Socket s = new Socket()) {
      s.setSoTimeout(10_000);
      s.bind(new InetSocketAddress(localAddress, 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      OutputStream out = s.getOutputStream();
      out.write(request);
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      int last4 = 0;
      int c;
      while (last4 != 0x0D0A0D0A && (c = in.read()) >= 0) {
        head.write(c);
        last4 = (last4 << 8) | c;
      }
      return RawResponse.parse(head.toString(StandardCharsets.ISO_8859_1));
    }
  }

  /** A GET for {@code path} with the given header lines, as raw bytes. */
  static byte[] rawGet(String path, byte[]... headerLines) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
        .getBytes(StandardCharsets.ISO_8859_1));
    for (byte[] line : headerLines) {
      b.writeBytes(line);
      b.writeBytes(new byte[] {'\r', '\n'});
    }
    b.writeBytes(new byte[] {'\r', '\n'});
    return b.toByteArray();
  }

  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("stopping Jetty", e);
    }
  }

  /** Status and headers of a raw response (header names lower-cased). */
  record RawResponse(int status, Map<String, String> headers) {
    static RawResponse parse(String head) {
      String[] lines = head.split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          headers.put(lines[i].substring(0, colon).toLowerCase(Locale.ROOT),
              lines[i].substring(colon + 1).strip());
        }
      }
      return new RawResponse(status, headers);
    }
  }

  /** The error page: {@code error <status>}. */
  private static final class ErrorServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      resp.setContentType("text/plain");
      resp.getWriter().write("error " + req.getAttribute("jakarta.servlet.error.status_code"));
    }
  }

  /**
   * Answers {@code ok <path>}; {@code /forward} forwards to {@code /hello};
   * {@code /_available/<rule>} answers the filter's {@code availablePermits} for the caller.
   */
  private static final class EchoServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient RateLimitFilter filter;

    EchoServlet(RateLimitFilter filter) {
      this.filter = filter;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      if (req.getServletPath().startsWith("/_available/")) {
        java.util.OptionalLong n =
            filter.availablePermits(req, req.getServletPath().substring("/_available/".length()));
        resp.setContentType("text/plain");
        resp.getWriter().write(n.isPresent() ? Long.toString(n.getAsLong()) : "none");
        return;
      }
      if ("/forward".equals(req.getServletPath())) {
        try {
          req.getRequestDispatcher("/hello").forward(req, resp);
        } catch (jakarta.servlet.ServletException e) {
          throw new IOException(e);
        }
        return;
      }
      resp.setContentType("text/plain;charset=utf-8");
      resp.getWriter().write("ok " + req.getServletPath());
    }
  }
}
