package dev.sluice.webflux;

import dev.sluice.Decision;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebHandler;
import org.springframework.web.server.adapter.WebHttpHandlerBuilder;
import org.springframework.web.server.handler.ResponseStatusExceptionHandler;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A real Reactor Netty server on 127.0.0.1 (a free port), without Boot: an {@link HttpHandler}
 * from {@link WebHttpHandlerBuilder} with the filters under test, over a handler that counts its
 * calls, echoes what the filter published ({@code X-Seen-Remaining}, {@code X-Seen-Shadow}),
 * answers with the status asked for in {@code X-Status}, and fails for {@code /boom} (an
 * exception) and {@code /denied} (a 401 {@link ResponseStatusException}). It names the thread it
 * ran on ({@code X-Handler-Thread}) and the thread the response was committed on
 * ({@code X-Commit-Thread}, set by a commit action registered after the filter's).
 */
final class TestServer implements AutoCloseable {

  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

  final AtomicInteger hits = new AtomicInteger();
  private final DisposableServer server;

  private TestServer(WebFilter... filters) {
    WebHandler handler = exchange -> {
      hits.incrementAndGet();
      ServerHttpResponse res = exchange.getResponse();
      res.getHeaders().set("X-Handler-Thread", Thread.currentThread().getName());
      res.beforeCommit(() -> {
        // runs after the filter's own commit action (a wait for refunds), where that ended
        res.getHeaders().set("X-Commit-Thread", Thread.currentThread().getName());
        return Mono.empty();
      });
      Decision d = exchange.getAttribute(RateLimitWebFilter.DECISION_ATTRIBUTE);
      if (d != null) {
        res.getHeaders().set("X-Seen-Remaining", Long.toString(d.remaining()));
      }
      List<String> shadow = exchange.getAttribute(RateLimitWebFilter.SHADOW_REFUSALS_ATTRIBUTE);
      if (shadow != null) {
        res.getHeaders().set("X-Seen-Shadow", String.join(",", shadow));
      }
      String path = exchange.getRequest().getPath().value();
      if (path.equals("/boom")) {
        return Mono.error(new IllegalStateException("boom"));
      }
      if (path.equals("/denied")) {
        return Mono.error(new ResponseStatusException(HttpStatus.UNAUTHORIZED));
      }
      String status = exchange.getRequest().getHeaders().getFirst("X-Status");
      if (status != null) {
        res.setStatusCode(HttpStatusCode.valueOf(Integer.parseInt(status)));
      }
      return res.writeWith(Mono.fromSupplier(
          () -> res.bufferFactory().wrap("ok".getBytes(StandardCharsets.UTF_8))));
    };
    WebHttpHandlerBuilder b = WebHttpHandlerBuilder.webHandler(handler)
        .exceptionHandler(new ResponseStatusExceptionHandler());
    for (WebFilter f : filters) {
      b.filter(f);
    }
    HttpHandler http = b.build();
    server = HttpServer.create().host("127.0.0.1").port(0)
        .handle(new ReactorHttpHandlerAdapter(http)).bindNow(Duration.ofSeconds(30));
  }

  static TestServer start(WebFilter... filters) {
    return new TestServer(filters);
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  /** A GET of {@code path} with header name, value pairs. */
  HttpResponse<String> get(String path, String... headers) {
    try {
      return CLIENT.send(request(path, headers), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  CompletableFuture<HttpResponse<String>> getAsync(String path, String... headers) {
    return CLIENT.sendAsync(request(path, headers), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest request(String path, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return b.GET().build();
  }

  @Override
  public void close() {
    server.disposeNow(Duration.ofSeconds(10));
  }
}
