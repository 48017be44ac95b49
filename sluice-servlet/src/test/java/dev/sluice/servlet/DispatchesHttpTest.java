package dev.sluice.servlet;

import static dev.sluice.servlet.HeadersTimelineTest.header;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.ErrorPageErrorHandler;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A request that passes the filter more than once (an async dispatch, an error page, an include,
 * a forward; the filter mapped for every dispatch type, on a real Jetty) is charged once: with 2
 * permits, the dispatched request leaves 1 and the next two plain requests get 200 then 429.
 */
class DispatchesHttpTest {

  @ParameterizedTest
  @ValueSource(strings = {"/async", "/async-error", "/error", "/include", "/forward"})
  void requestThroughSeveralDispatches_chargedOnce(String path) throws Exception {
    RateLimitFilter filter = RateLimitFilter.builder().limit(Limit.perHour(2))
        .ticker(new ManualTicker()).build();
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    FilterHolder holder = new FilterHolder(filter);
    holder.setAsyncSupported(true);
    context.addFilter(holder, "/*", EnumSet.allOf(DispatcherType.class));
    ServletHolder servlet = new ServletHolder(new Dispatching());
    servlet.setAsyncSupported(true);
    context.addServlet(servlet, "/");
    ErrorPageErrorHandler errors = new ErrorPageErrorHandler();
    errors.addErrorPage(500, "/error-page");
    context.setErrorHandler(errors);
    server.setHandler(context);
    server.start();
    try {
      int port = connector.getLocalPort();
      HttpResponse<String> first = get(port, path);
      assertThat(first.body()).as(path).contains(path.contains("error") ? "error page" : "ok /hello");
      assertThat(header(first, "X-RateLimit-Remaining")).as(path).isEqualTo("1");
      assertThat(get(port, "/hello").statusCode()).isEqualTo(200);
      assertThat(get(port, "/hello").statusCode()).isEqualTo(429);
    } finally {
      server.stop();
    }
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return TestServer.CLIENT.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Each path passes the request through the filter again in its own way. */
  private static final class Dispatching extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp)
        throws IOException, ServletException {
      // an include keeps the including request's paths: answer as /hello would
      String path = req.getDispatcherType() == DispatcherType.INCLUDE ? "/hello"
          : req.getServletPath();
      switch (path) {
        case "/async" -> {
          AsyncContext async = req.startAsync();
          async.start(() -> async.dispatch("/hello"));
        }
        case "/async-error" -> {
          if (req.getDispatcherType() == DispatcherType.ASYNC) {
            resp.sendError(500);
            return;
          }
          AsyncContext async = req.startAsync();
          async.start(() -> async.dispatch("/async-error"));
        }
        case "/error" -> resp.sendError(500);
        case "/error-page" -> {
          resp.setContentType("text/plain");
          resp.getWriter().write("error page " + req.getDispatcherType());
        }
        case "/include" -> req.getRequestDispatcher("/hello").include(req, resp);
        case "/forward" -> req.getRequestDispatcher("/hello").forward(req, resp);
        default -> {
          resp.setContentType("text/plain");
          resp.getWriter().write("ok " + path);
        }
      }
    }
  }
}
