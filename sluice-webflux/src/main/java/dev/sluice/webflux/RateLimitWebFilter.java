package dev.sluice.webflux;

import dev.sluice.Decision;
import dev.sluice.http.HttpLimiter;
import dev.sluice.http.RequestView;
import dev.sluice.http.Rule;
import dev.sluice.http.Verdict;
import java.security.Principal;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.Fuseable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.core.scheduler.Scheduler;

/**
 * A Spring WebFlux {@link WebFilter} that rate-limits requests without blocking: a thin adapter
 * over {@link HttpLimiter}, which decides (rules, keys, all-or-nothing, headers, problem bodies;
 * see there) through its asynchronous path ({@link HttpLimiter#decideAsync}), so a remote store
 * (Redis) is asked without a thread waiting for it. The filter reads the exchange, sets the
 * verdict's headers on the response, publishes the binding {@link Decision} as the exchange
 * attribute {@value #DECISION_ATTRIBUTE}, and either passes the exchange on or has the
 * {@link RejectionWriter} write the refusal (by default 429, 403 or 503 with an
 * {@code application/problem+json} body); a refused request never reaches the handler.
 *
 * <pre>{@code
 * HttpLimiter limiter = HttpLimiter.builder()
 *     .rule(Rule.builder("api", Limit.perSecond(10).withCapacity(20)).paths("/api/**").build())
 *     .build();
 * HttpHandler handler = WebHttpHandlerBuilder.webHandler(webHandler)
 *     .filter(RateLimitWebFilter.builder(limiter).build())
 *     .build();
 * }</pre>
 *
 * <p><b>Threads.</b> With the in-memory store the decision is made on the calling thread and the
 * chain goes on there. With a remote store the decision completes on the store client's thread
 * (for Redis, a Lettuce I/O thread); on Reactor Netty the filter goes back to the exchange's own
 * event loop before the chain goes on, and again before a commit that waited for refunds goes
 * on, so handlers never run on the Redis client's threads, and an exchange never completes off
 * its connection's loop (Reactor Netty 1.3.6 can then lose the connection's next keep-alive
 * request: it never gets an answer). On other servers the chain goes on where the decision
 * completed. Nothing in the filter blocks any thread.
 *
 * <p><b>Paths</b> are the path within the application, percent-decoded, path parameters dropped
 * and dot segments resolved, as a servlet container normalizes them. <b>The principal</b>
 * ({@link dev.sluice.http.KeyResolver#principal()}) is the exchange's
 * ({@link ServerWebExchange#getPrincipal()}); order this filter after the security filter
 * (Spring Security's runs at -100; this filter's default order is 0) for it to be known.
 *
 * <p><b>After the response</b> the filter reports its final status to the verdict
 * ({@link Verdict#completeAsync}), which settles the charge-on rules, exactly once per request:
 * when the response is committed, with the status it is committed with (also the status an
 * error handler answers an exception with), the commit waiting for the refunds' answers; if
 * the handler completes without committing, with the status then (200 if none); if the exchange
 * is cancelled (the client went away) before that, with the status set by then, or 500 if none
 * was set (those refunds are not waited for). A verdict with nothing to settle
 * ({@link Verdict#settles()}) registers no hook. The filter applies once per exchange: a second
 * instance in the same chain passes it through.
 *
 * <p>The filter does not close the {@link HttpLimiter}; its owner does. Thread-safe.
 */
public final class RateLimitWebFilter implements WebFilter, Ordered {

  /**
   * The exchange attribute holding the binding {@link Decision} of a limited request (allowed
   * or refused): who decided ({@link Decision#source()}), what remains, which limit bound.
   * Absent for exempt and unlimited requests and when no key was found.
   */
  public static final String DECISION_ATTRIBUTE = "dev.sluice.decision";

  /**
   * The exchange attribute holding, when shadow rules would have refused the request (which
   * went on all the same), their names as a {@code List<String>}
   * ({@link Verdict#shadowRefusals()}); absent otherwise.
   */
  public static final String SHADOW_REFUSALS_ATTRIBUTE = "dev.sluice.shadowRefusals";

  /** The default {@link #getOrder() order}: after Spring Security's filter chain (-100). */
  public static final int DEFAULT_ORDER = 0;

  private static final String APPLIED = RateLimitWebFilter.class.getName() + ".applied";

  private final HttpLimiter limiter;
  private final RejectionWriter rejectionWriter;
  private final int order;

  private RateLimitWebFilter(Builder b) {
    this.limiter = b.limiter;
    this.rejectionWriter = b.rejectionWriter;
    this.order = b.order;
  }

  /**
   * A builder for a filter applying {@code limiter}, with {@link RejectionWriter#problemJson()}
   * and {@link #DEFAULT_ORDER}.
   *
   * @param limiter the HTTP limiter that decides; the filter does not close it
   * @return a new builder
   */
  public static Builder builder(HttpLimiter limiter) {
    return new Builder(Objects.requireNonNull(limiter, "limiter"));
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    if (exchange.getAttributes().putIfAbsent(APPLIED, Boolean.TRUE) != null) {
      return chain.filter(exchange);
    }
    Mono<Principal> principal = exchange.getPrincipal();
    if (principal instanceof Fuseable.ScalarCallable<?> known) {
      // Mono.empty() (no security) or Mono.just(p): read at once, no subscription.
      Object p;
      try {
        p = known.call();
      } catch (Exception e) {
        return Mono.error(e);
      }
      return decide(exchange, chain, p == null ? null : ((Principal) p).getName());
    }
    return principal.map(p -> Objects.requireNonNullElse(p.getName(), ""))
        .defaultIfEmpty("")
        .flatMap(name -> decide(exchange, chain, name.isEmpty() ? null : name));
  }

  private Mono<Void> decide(ServerWebExchange exchange, WebFilterChain chain, String principal) {
    RequestView view = new ExchangeRequestView(exchange.getRequest(), principal);
    CompletionStage<Verdict> stage = limiter.decideAsync(view);
    CompletableFuture<Verdict> f = stage.toCompletableFuture();
    if (f.isDone() && !f.isCompletedExceptionally()) {
      // decided already (in memory), on this thread: no Mono
      return apply(exchange, chain, f.getNow(null), null);
    }
    Scheduler loop = ConnectionLoop.of(exchange.getRequest());
    Mono<Verdict> decided = Mono.fromCompletionStage(stage);
    return (loop == null ? decided : decided.publishOn(loop))
        .flatMap(v -> apply(exchange, chain, v, loop));
  }

  private Mono<Void> apply(ServerWebExchange exchange, WebFilterChain chain, Verdict verdict,
      Scheduler loop) {
    ServerHttpResponse response = exchange.getResponse();
    int n = verdict.headerCount();
    if (n > 0) {
      HttpHeaders headers = response.getHeaders();
      for (int i = 0; i < n; i++) {
        headers.set(verdict.headerName(i), verdict.headerValue(i));
      }
    }
    Decision decision = verdict.decision().orElse(null);
    if (decision != null) {
      exchange.getAttributes().put(DECISION_ATTRIBUTE, decision);
    }
    if (!verdict.shadowRefusals().isEmpty()) {
      exchange.getAttributes().put(SHADOW_REFUSALS_ATTRIBUTE, verdict.shadowRefusals());
    }
    if (!verdict.allowed()) {
      return rejectionWriter.reject(exchange, verdict.rejection().orElseThrow());
    }
    if (!verdict.settles()) {
      return chain.filter(exchange); // no charge-on rule holds permits: nothing to settle
    }
    Scheduler commitLoop = loop != null ? loop : ConnectionLoop.of(exchange.getRequest());
    response.beforeCommit(() -> {
      // Wait for the refunds (none without charge-on rules): once the client has its answer,
      // its next request finds the permits given back.
      // The commit goes on where the refunds completed: back on the connection's loop.
      CompletableFuture<Void> settled = settle(verdict, status(response, 200));
      if (settled.isDone()) {
        return Mono.empty();
      }
      Mono<Void> refunded = Mono.fromFuture(settled, true).onErrorResume(e -> Mono.empty());
      return commitLoop == null ? refunded : refunded.publishOn(commitLoop);
    });
    return chain.filter(exchange).doFinally(signal -> {
      if (signal == SignalType.ON_COMPLETE) {
        settle(verdict, status(response, 200));
      } else if (signal == SignalType.CANCEL) {
        settle(verdict, status(response, 500));
      } else if (response.isCommitted()) {
        settle(verdict, status(response, 500));
      }
      // else an error, whose answer (and its status) is committed later: settled then
    });
  }

  /** The response's status, or {@code otherwise} if none (or one out of 100..599) is set. */
  private static int status(ServerHttpResponse response, int otherwise) {
    HttpStatusCode s = response.getStatusCode();
    int v = s == null ? otherwise : s.value();
    return v >= 100 && v <= 599 ? v : otherwise;
  }

  /**
   * Settles at most once (the verdict ignores repeats); failures keep the charges. Returns when
   * the refunds are answered (done at once when there are none).
   */
  private static CompletableFuture<Void> settle(Verdict verdict, int status) {
    try {
      return verdict.completeAsync(status).toCompletableFuture();
    } catch (RuntimeException keep) {
      // a refund that fails keeps the permits: under-admission, never over
      return DONE;
    }
  }

  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  /**
   * This filter's order among the application's filters ({@link Builder#order}).
   *
   * @return the order
   */
  @Override
  public int getOrder() {
    return order;
  }

  /**
   * The HTTP limiter that decides.
   *
   * @return the limiter
   */
  public HttpLimiter limiter() {
    return limiter;
  }

  @Override
  public String toString() {
    return "RateLimitWebFilter" + limiter.rules();
  }

  /**
   * {@code exchange}'s request as the HTTP layer reads it, for code that resolves a request's
   * key itself ({@link dev.sluice.http.KeyResolver#resolve}) the way the filter does; the
   * principal is {@code principal} (the filter reads it from {@link ServerWebExchange#getPrincipal()}).
   *
   * @param exchange the exchange
   * @param principal the authenticated principal's name, or null
   * @return a view of its request, made for this call
   */
  public static RequestView requestView(ServerWebExchange exchange, String principal) {
    return new ExchangeRequestView(Objects.requireNonNull(exchange, "exchange").getRequest(),
        principal);
  }

  /** Builds a {@link RateLimitWebFilter}. Not thread-safe. */
  public static final class Builder {

    private final HttpLimiter limiter;
    private RejectionWriter rejectionWriter = RejectionWriter.problemJson();
    private int order = DEFAULT_ORDER;

    private Builder(HttpLimiter limiter) {
      this.limiter = limiter;
    }

    /**
     * Writes refusals (default {@link RejectionWriter#problemJson()}).
     *
     * @param writer the writer
     * @return this builder
     */
    public Builder rejectionWriter(RejectionWriter writer) {
      this.rejectionWriter = Objects.requireNonNull(writer, "writer");
      return this;
    }

    /**
     * The filter's order, where filters are sorted ({@link Ordered}; default
     * {@link #DEFAULT_ORDER}).
     *
     * @param order the order
     * @return this builder
     */
    public Builder order(int order) {
      this.order = order;
      return this;
    }

    /**
     * Builds the filter.
     *
     * @return the filter
     * @throws IllegalArgumentException if a rule of the limiter waits ({@code maxWait} above 0):
     *     this filter does not queue yet
     */
    public RateLimitWebFilter build() {
      for (Rule rule : limiter.rules()) {
        if (!rule.maxWait().isZero()) {
          throw new IllegalArgumentException("rule \"" + rule.name() + "\" waits up to "
              + rule.maxWait() + ": the WebFlux filter does not queue requests yet (its"
              + " asynchronous path refuses at once); build the rule with maxWait 0");
        }
      }
      return new RateLimitWebFilter(this);
    }
  }
}
