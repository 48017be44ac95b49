package dev.sluice.spring.gateway;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import reactor.core.publisher.Mono;

/**
 * A gateway application with the starter: routes {@code /limited/**} (plan {@code pro} of
 * {@code sluice.plans}) and {@code /api/**} (no route limit: the {@code sluice.rules} rule of
 * the starter's WebFilter limits it) to a backend on 127.0.0.1; the client is named by the
 * {@code X-Client} header.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
class GatewayApp {

  /** The client key of the route filters. */
  @Bean
  KeyResolver clientKeyResolver() {
    return exchange -> Mono.justOrEmpty(exchange.getRequest().getHeaders().getFirst("X-Client"));
  }

  /** The gateway's properties: the routes, then {@code extra} (the test's sluice.* values). */
  static ConfigurableApplicationContext start(Backend backend, String... extra) {
    String r = "spring.cloud.gateway.server.webflux.routes";
    List<String> p = new ArrayList<>(List.of("server.port=0",
        r + "[0].id=limited", r + "[0].uri=" + backend.uri(), r + "[0].predicates[0]=Path=/limited/**",
        r + "[0].filters[0].name=RequestRateLimiter",
        r + "[0].filters[0].args.rate-limiter=#{@sluiceRateLimiter}",
        r + "[0].filters[0].args.key-resolver=#{@clientKeyResolver}",
        r + "[0].filters[0].args.sluice-rate-limiter.plan=pro",
        r + "[1].id=api", r + "[1].uri=" + backend.uri(), r + "[1].predicates[0]=Path=/api/**"));
    p.addAll(List.of(extra));
    return new SpringApplicationBuilder(GatewayApp.class).web(WebApplicationType.REACTIVE)
        .properties(p.toArray(String[]::new)).run();
  }

  static int port(ConfigurableApplicationContext ctx) {
    return Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port"));
  }

  private static final HttpClient CLIENT = HttpClient.newHttpClient();

  static HttpResponse<String> get(ConfigurableApplicationContext ctx, String path,
      String client) {
    try {
      return CLIENT.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + port(ctx) + path))
          .header("X-Client", client).GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The service behind the gateway: answers 200 and counts what reached it. */
  static final class Backend implements AutoCloseable {
    private final HttpServer server;
    final AtomicInteger hits = new AtomicInteger();

    Backend() {
      try {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      server.createContext("/", exchange -> {
        hits.incrementAndGet();
        byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      });
      server.start();
    }

    String uri() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
