package dev.sluice.benchmarks;

import dev.sluice.Limit;
import dev.sluice.http.HttpLimiter;
import dev.sluice.http.KeyResolver;
import dev.sluice.http.Rule;
import dev.sluice.redis.RedisStore;
import dev.sluice.servlet.RateLimitFilter;
import dev.sluice.webflux.RateLimitWebFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.server.WebHandler;
import org.springframework.web.server.adapter.WebHttpHandlerBuilder;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * Throughput of the two web adapters over Redis on this machine, by HTTP: a Jetty 12 server
 * with the servlet {@link RateLimitFilter} and a Reactor Netty server with the WebFlux
 * {@link RateLimitWebFilter}, each over an {@link HttpLimiter} on the same Redis (one rule, never
 * refusing, 1,000 keys), each answering {@code ok}; one {@link HttpClient} keeps 64 requests in
 * flight against one server at a time, in alternating rounds (servlet, WebFlux, servlet, ...),
 * so that drift in the machine's load hits both. Prints requests per second per round and the
 * median per adapter. Client, servers and Redis share the machine: compare within one run.
 *
 * <pre>
 * /tmp/redis-server-6.2.6-v5-linux-amd64 --port 6399 --save "" --appendonly no &amp;
 * java -Xms1g -Xmx1g -cp sluice-benchmarks/target/benchmarks.jar \
 *     dev.sluice.benchmarks.AdapterLoad redis://127.0.0.1:6399 [rounds] [seconds] [inFlight]
 * </pre>
 */
public final class AdapterLoad {

  private AdapterLoad() {}

  /**
   * Runs the rounds.
   *
   * @param args {@code redisUri [rounds] [seconds] [inFlight]}
   * @throws Exception if a server cannot start
   */
  public static void main(String[] args) throws Exception {
    String uri = args.length > 0 ? args[0] : "redis://127.0.0.1:6379";
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    int inFlight = args.length > 3 ? Integer.parseInt(args[3]) : 64;
    Limit never = Limit.of(1_000_000_000L, Duration.ofSeconds(1));
    try (RedisStore.Factory store = RedisStore.factory(uri).deadline(Duration.ofSeconds(1));
        HttpLimiter servletLimiter = HttpLimiter.builder().store(store)
            .key(KeyResolver.header("X-Key")).rule(Rule.builder("s", never).build()).build();
        HttpLimiter webfluxLimiter = HttpLimiter.builder().store(store)
            .key(KeyResolver.header("X-Key")).rule(Rule.builder("w", never).build()).build()) {
      Server jetty = jetty(servletLimiter);
      DisposableServer netty = netty(webfluxLimiter);
      try {
        int jettyPort = ((ServerConnector) jetty.getConnectors()[0]).getLocalPort();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI servletUri = URI.create("http://127.0.0.1:" + jettyPort + "/hello");
        URI webfluxUri = URI.create("http://127.0.0.1:" + netty.port() + "/hello");
        run(client, servletUri, inFlight, 3); // warm both up
        run(client, webfluxUri, inFlight, 3);
        double[] servlet = new double[rounds];
        double[] webflux = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          servlet[r] = run(client, servletUri, inFlight, seconds);
          webflux[r] = run(client, webfluxUri, inFlight, seconds);
          System.out.printf("round %d: servlet %.0f req/s, webflux %.0f req/s%n", r + 1,
              servlet[r], webflux[r]);
        }
        System.out.printf("median, %d in flight: servlet %.0f req/s, webflux %.0f req/s%n",
            inFlight, median(servlet), median(webflux));
      } finally {
        netty.disposeNow();
        jetty.stop();
      }
    }
  }

  private static Server jetty(HttpLimiter limiter) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.addFilter(new FilterHolder(RateLimitFilter.of(limiter,
        dev.sluice.servlet.RejectionHandler.problemJson())), "/*",
        EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(new ServletHolder(new HttpServlet() {
      private static final long serialVersionUID = 1L;

      @Override
      protected void doGet(HttpServletRequest req, HttpServletResponse res) throws IOException {
        res.getOutputStream().write(OK);
      }
    }), "/");
    server.setHandler(context);
    server.start();
    return server;
  }

  private static final byte[] OK = "ok".getBytes(StandardCharsets.UTF_8);

  private static DisposableServer netty(HttpLimiter limiter) {
    WebHandler handler = exchange -> exchange.getResponse().writeWith(
        Mono.fromSupplier(() -> exchange.getResponse().bufferFactory().wrap(OK)));
    return HttpServer.create().host("127.0.0.1").port(0)
        .handle(new ReactorHttpHandlerAdapter(WebHttpHandlerBuilder.webHandler(handler)
            .filter(RateLimitWebFilter.builder(limiter).build()).build()))
        .bindNow();
  }

  /** Requests per second over {@code seconds}, {@code inFlight} at a time; every answer a 200. */
  private static double run(HttpClient client, URI uri, int inFlight, int seconds)
      throws InterruptedException {
    Semaphore slots = new Semaphore(inFlight);
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() - end < 0) {
      slots.acquire();
      HttpRequest request = HttpRequest.newBuilder(uri)
          .header("X-Key", "k" + ThreadLocalRandom.current().nextInt(1000)).GET().build();
      client.sendAsync(request, HttpResponse.BodyHandlers.discarding())
          .whenComplete((r, e) -> {
            if (e != null || r.statusCode() != 200) {
              failed.incrementAndGet();
            }
            done.incrementAndGet();
            slots.release();
          });
    }
    slots.acquire(inFlight);
    double elapsed = (System.nanoTime() - start) / 1e9;
    if (failed.get() > 0) {
      System.out.printf("  %s: %d of %d failed or not 200%n", uri, failed.get(), done.get());
    }
    return done.get() / elapsed;
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
