package dev.sluice.benchmarks;

import dev.sluice.Limit;
import dev.sluice.http.HttpLimiter;
import dev.sluice.http.KeyResolver;
import dev.sluice.http.Rule;
import dev.sluice.http.Verdict;
import dev.sluice.webflux.RateLimitWebFilter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.net.URI;
import java.security.Principal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import org.springframework.context.ApplicationContext;
import org.springframework.context.i18n.LocaleContext;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpCookie;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseCookie;
import org.springframework.http.codec.multipart.Part;
import org.springframework.http.server.RequestPath;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.support.Netty4HeadersAdapter;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.server.WebSession;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What {@link RateLimitWebFilter} adds to a request: resolve the key (and hash it), decide
 * through {@link HttpLimiter#decideAsync} (in memory: complete on return), write the headers,
 * publish the decision, register the settling hooks; beside a pass-through {@link WebFilter} that
 * only calls the chain. No server: the exchange is the lean, hand-written {@link Exchange} below
 * (a benchmark harness, not a test double: reused, reset per request, headers in Spring's
 * {@link HttpHeaders} over Netty's, as Reactor Netty's server keeps them), the chain completes the response as a server would (running its
 * before-commit actions), and one reusable subscriber subscribes; so the difference between
 * {@code filter=passThrough} and the others is the filter's own cost. The variants match
 * {@link FilterOverheadBenchmark}'s, so one run gives both adapters' figures:
 *
 * <ul>
 *   <li>{@code passThrough}: a filter that calls the chain;</li>
 *   <li>{@code setHeaders}: a filter that sets the headers {@code ip} sets (the same strings,
 *       made once) and calls the chain: what the response's header store costs, whoever
 *       writes to it;</li>
 *   <li>{@code ip}: one rule, key = client IP, every header group, always admitted;</li>
 *   <li>{@code apiKey}: one rule, key = {@code X-API-Key} header;</li>
 *   <li>{@code twoRules}: two rules on the request, all-or-nothing;</li>
 *   <li>{@code denied}: one rule whose bucket is empty: decision, headers, {@code Retry-After}
 *       and the 429 problem body.</li>
 * </ul>
 *
 * <p>Run (from the repository root, after {@code mvn -q -pl sluice-benchmarks -am package -Pquick}):
 * <pre>
 * java -jar sluice-benchmarks/target/benchmarks.jar 'FilterOverheadBenchmark|WebFilterOverheadBenchmark' \
 *     -p filter=passThrough,ip,apiKey,twoRules,denied -t 1 -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@State(Scope.Thread)
public class WebFilterOverheadBenchmark {

  /** Which filter sits in front of the chain. */
  @Param({"passThrough", "setHeaders", "ip", "apiKey", "twoRules", "denied"})
  public String filter;

  WebFilter target;
  HttpLimiter limiter;
  Exchange exchange;
  WebFilterChain chain;
  Done done;

  /**
   * Builds the filter under test and the exchange.
   *
   * @param bh consumes the exchange in the chain
   */
  @Setup(Level.Trial)
  public void setUp(Blackhole bh) {
    Limit never = Limit.of(1_000_000_000L, Duration.ofSeconds(1));
    try {
      exchange = new Exchange(URI.create("http://localhost/api/items"), new InetSocketAddress(
          InetAddress.getByAddress(new byte[] {(byte) 203, 0, 113, 7}), 40000));
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
    exchange.request.headers.set("X-API-Key", "k-0123456789abcdef");
    switch (filter) {
      case "passThrough":
        target = (ex, ch) -> ch.filter(ex);
        break;
      case "setHeaders": {
        Verdict v;
        try (HttpLimiter once = HttpLimiter.builder().limit(never).build()) {
          v = once.decide(RateLimitWebFilter.requestView(exchange, null));
        }
        String[] names = new String[v.headerCount()];
        String[] values = new String[v.headerCount()];
        for (int i = 0; i < names.length; i++) {
          names[i] = v.headerName(i);
          values[i] = v.headerValue(i);
        }
        target = (ex, ch) -> {
          HttpHeaders h = ex.getResponse().getHeaders();
          for (int i = 0; i < names.length; i++) {
            h.set(names[i], values[i]);
          }
          return ch.filter(ex);
        };
        break;
      }
      case "ip":
        limiter = HttpLimiter.builder().limit(never).build();
        break;
      case "apiKey":
        limiter = HttpLimiter.builder().limit(never).key(KeyResolver.header("X-API-Key")).build();
        break;
      case "twoRules":
        limiter = HttpLimiter.builder()
            .rule(Rule.builder("api", never).paths("/api/**").build())
            .rule(Rule.builder("items", never).paths("/api/items").build())
            .build();
        break;
      case "denied":
        limiter = HttpLimiter.builder().limit(Limit.perHour(1)).build();
        break;
      default:
        throw new IllegalArgumentException(filter);
    }
    if (limiter != null) {
      target = RateLimitWebFilter.builder(limiter).build();
    }
    chain = ex -> {
      bh.consume(ex);
      return ((Response) ex.getResponse()).setComplete();
    };
    done = new Done();
  }

  /** Closes the limiter. */
  @TearDown(Level.Trial)
  public void tearDown() {
    if (limiter != null) {
      limiter.close();
    }
  }

  /**
   * One request through the filter (and the chain, when admitted).
   *
   * @return the status, so the work is not dead code
   */
  @Benchmark
  public int request() {
    exchange.reset();
    target.filter(exchange, chain).subscribe(done);
    if (!done.completed) {
      throw new IllegalStateException("the filter did not complete");
    }
    HttpStatusCode s = exchange.response.getStatusCode();
    return s == null ? 200 : s.value();
  }

  /** A reusable subscriber: requests everything, records completion. */
  static final class Done implements CoreSubscriber<Void> {
    boolean completed;

    @Override
    public void onSubscribe(Subscription s) {
      completed = false;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(Void v) {}

    @Override
    public void onError(Throwable t) {
      throw new IllegalStateException(t);
    }

    @Override
    public void onComplete() {
      completed = true;
    }
  }

  /** An exchange reused for every request: attributes and response reset each time. Harness. */
  static final class Exchange implements ServerWebExchange {
    final Request request;
    final Response response = new Response();
    final Map<String, Object> attributes = new HashMap<>();

    Exchange(URI uri, InetSocketAddress peer) {
      request = new Request(uri, peer);
    }

    void reset() {
      attributes.clear();
      response.reset();
    }

    @Override public ServerHttpRequest getRequest() { return request; }
    @Override public ServerHttpResponse getResponse() { return response; }
    @Override public Map<String, Object> getAttributes() { return attributes; }
    @Override public <T extends Principal> Mono<T> getPrincipal() { return Mono.empty(); }

    // Not used by the filter.
    @Override public Mono<WebSession> getSession() { throw new UnsupportedOperationException(); }
    @Override public Mono<MultiValueMap<String, String>> getFormData() { throw new UnsupportedOperationException(); }
    @Override public Mono<MultiValueMap<String, Part>> getMultipartData() { throw new UnsupportedOperationException(); }
    @Override public Mono<Void> cleanupMultipart() { throw new UnsupportedOperationException(); }
    @Override public LocaleContext getLocaleContext() { throw new UnsupportedOperationException(); }
    @Override public ApplicationContext getApplicationContext() { return null; }
    @Override public boolean isNotModified() { return false; }
    @Override public boolean checkNotModified(java.time.Instant lastModified) { throw new UnsupportedOperationException(); }
    @Override public boolean checkNotModified(String etag) { throw new UnsupportedOperationException(); }
    @Override public boolean checkNotModified(String etag, java.time.Instant lastModified) { throw new UnsupportedOperationException(); }
    @Override public String transformUrl(String url) { return url; }
    @Override public void addUrlTransformer(Function<String, String> transformer) { throw new UnsupportedOperationException(); }
    @Override public String getLogPrefix() { return ""; }
  }

  /** A GET with a fixed path, peer and headers, parsed once. Harness. */
  static final class Request implements ServerHttpRequest {
    final URI uri;
    final RequestPath path;
    final HttpHeaders headers = new HttpHeaders(
        new Netty4HeadersAdapter(new DefaultHttpHeaders()));
    final InetSocketAddress peer;

    Request(URI uri, InetSocketAddress peer) {
      this.uri = uri;
      this.path = RequestPath.parse(uri, "");
      this.peer = peer;
    }

    @Override public HttpMethod getMethod() { return HttpMethod.GET; }
    @Override public RequestPath getPath() { return path; }
    @Override public HttpHeaders getHeaders() { return headers; }
    @Override public InetSocketAddress getRemoteAddress() { return peer; }
    @Override public URI getURI() { return uri; }
    @Override public String getId() { return "1"; }

    // Not used by the filter.
    @Override public MultiValueMap<String, String> getQueryParams() { return new LinkedMultiValueMap<>(); }
    @Override public MultiValueMap<String, HttpCookie> getCookies() { return new LinkedMultiValueMap<>(); }
    @Override public Flux<DataBuffer> getBody() { return Flux.empty(); }
    @Override public Map<String, Object> getAttributes() { throw new UnsupportedOperationException(); }
  }

  /** Headers, a status, before-commit actions run at completion, a body thrown away. Harness. */
  static final class Response implements ServerHttpResponse {
    final HttpHeaders headers = new HttpHeaders(
        new Netty4HeadersAdapter(new DefaultHttpHeaders()));
    final List<Supplier<? extends Mono<Void>>> beforeCommit = new ArrayList<>(4);
    HttpStatusCode status;
    boolean committed;

    void reset() {
      headers.clear();
      beforeCommit.clear();
      status = null;
      committed = false;
    }

    @Override public boolean setStatusCode(HttpStatusCode s) { status = s; return true; }
    @Override public HttpStatusCode getStatusCode() { return status; }
    @Override public HttpHeaders getHeaders() { return headers; }
    @Override public DataBufferFactory bufferFactory() { return DefaultDataBufferFactory.sharedInstance; }
    @Override public void beforeCommit(Supplier<? extends Mono<Void>> action) { beforeCommit.add(action); }
    @Override public boolean isCommitted() { return committed; }

    /** Commits: runs the before-commit actions (each completes at once here), as a server does. */
    private Mono<Void> commit() {
      committed = true;
      for (int i = 0; i < beforeCommit.size(); i++) {
        beforeCommit.get(i).get().subscribe();
      }
      return Mono.empty();
    }

    @Override public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
      commit();
      return Mono.from(body).then();
    }

    @Override public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
      throw new UnsupportedOperationException();
    }

    @Override public Mono<Void> setComplete() { return commit(); }

    // Not used by the filter.
    @Override public MultiValueMap<String, ResponseCookie> getCookies() { throw new UnsupportedOperationException(); }
    @Override public void addCookie(ResponseCookie cookie) { throw new UnsupportedOperationException(); }
  }
}
