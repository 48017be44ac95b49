package dev.sluice.servlet;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.Ticker;
import dev.sluice.http.HeaderGroup;
import dev.sluice.http.HttpLimiter;
import dev.sluice.http.KeyResolver;
import dev.sluice.http.MissingKey;
import dev.sluice.http.RequestView;
import dev.sluice.http.Rule;
import dev.sluice.http.Verdict;
import dev.sluice.spi.RateStoreFactory;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Jakarta Servlet filter that rate-limits requests: a thin adapter over {@link HttpLimiter},
 * which decides (rules, keys, all-or-nothing, headers, problem bodies; see there). The filter
 * reads the request, sets the verdict's headers on the response, publishes the binding
 * {@link Decision} as the request attribute {@value #DECISION_ATTRIBUTE}, and either passes the
 * request on or has the {@link RejectionHandler} write the refusal (by default 429
 * {@code application/problem+json}); a refused request never reaches the servlet.
 *
 * <pre>{@code
 * RateLimitFilter filter = RateLimitFilter.builder()
 *     .key(KeyResolver.clientIp(TrustedProxies.of("10.0.0.0/8")))
 *     .rule(Rule.builder("api", Limit.perSecond(10).withCapacity(20)).paths("/api/**").build())
 *     .exempt("/health")
 *     .build();
 * }</pre>
 *
 * <p>Only the first pass of a request ({@link DispatcherType#REQUEST}) is counted; forwards,
 * includes, error and async dispatches pass through. Paths are the servlet path plus path info,
 * decoded and normalized by the container. {@link #destroy()} and {@link #close()} close the
 * {@link HttpLimiter} if the filter built it. Thread-safe.
 *
 * <p><b>After the response</b> the filter reports its final status to the verdict
 * ({@link Verdict#complete}), which settles the charge-on rules
 * ({@link Rule.Builder#chargeOn(java.util.function.IntPredicate)}), exactly once per request: when
 * the chain returns, with {@link HttpServletResponse#getStatus()}; for a request put in async
 * mode ({@link ServletRequest#isAsyncStarted()}), when it completes ({@link AsyncListener#onComplete},
 * with the status then; a timeout is settled at that completion, with the status the container
 * or the application sent). An exception thrown by the chain, or an async error
 * ({@link AsyncListener#onError}), counts as status 500. Error dispatches that follow pass
 * through without charging or settling again.
 *
 * <p><b>Queued requests</b> (rules with {@link Rule.Builder#maxWait}) wait for their permits
 * after the decision, holding no lock (the decision and its striped locks are over), with the
 * verdict's headers already set (they describe the request as served). How they wait:
 * <ul>
 *   <li>A request that supports async ({@link ServletRequest#isAsyncSupported()}: every filter
 *       and the servlet of its chain are async-capable) is put in async mode and holds no thread:
 *       the core's shared scheduler releases it at its due instant ({@link Verdict#whenDue()}),
 *       only to call {@link AsyncContext#dispatch()}, and the container passes it through the
 *       chain again on one of its threads, as an {@link DispatcherType#ASYNC} dispatch that this
 *       filter serves (so map the filter for {@code ASYNC} as well as {@code REQUEST}: a
 *       container that skips it still serves the request, but its charge-on rules keep their
 *       charges). The async timeout is the wait plus 30 s; a timeout before the request is due
 *       cancels its verdict (the permits go back) and answers 503, an error (the container
 *       reporting the client gone) cancels it and ends the request.</li>
 *   <li>Otherwise the container thread parks until due ({@link Verdict#await()}). An interrupted
 *       wait (the container stopping) cancels the verdict, keeps the interrupt flag, and answers
 *       503: the server gave up, the client did nothing wrong.</li>
 * </ul>
 * Why this design: a queue of waiting requests costs no thread where the container allows it
 * (nginx's {@code limit_req} holds no worker either), and the scheduler thread does no request
 * work, so one slow response cannot delay the release of the next; parking is the fallback that
 * works in every chain.
 */
public final class RateLimitFilter implements Filter, AutoCloseable {

  /**
   * The request attribute holding the binding {@link Decision} of a limited request (allowed or
   * refused): who decided ({@link Decision#source()}), what remains, which limit bound. Absent
   * for exempt and unlimited requests and when no key was found.
   */
  public static final String DECISION_ATTRIBUTE = "dev.sluice.decision";

  /**
   * The request attribute holding, when shadow rules would have refused the request (which
   * went on all the same), their names as a {@code List<String>} ({@link Verdict#shadowRefusals()});
   * absent otherwise.
   */
  public static final String SHADOW_REFUSALS_ATTRIBUTE = "dev.sluice.shadowRefusals";

  private static final String APPLIED = RateLimitFilter.class.getName() + ".applied";
  /** The verdict of a queued request waiting in async mode, until it is dispatched again. */
  private static final String QUEUED = RateLimitFilter.class.getName() + ".queued";

  private final HttpLimiter limiter;
  private final boolean owned;
  private final RejectionHandler rejectionHandler;

  private RateLimitFilter(HttpLimiter limiter, boolean owned, RejectionHandler rejectionHandler) {
    this.limiter = limiter;
    this.owned = owned;
    this.rejectionHandler = rejectionHandler;
  }

  /**
   * A builder with {@link HttpLimiter}'s defaults and {@link RejectionHandler#problemJson()}.
   * At least one rule (or {@link Builder#limit}) is required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A filter applying an {@link HttpLimiter} built elsewhere (shared with another adapter, say);
   * closing the filter does not close it.
   *
   * @param limiter the HTTP limiter
   * @param rejectionHandler writes refusals
   * @return the filter
   */
  public static RateLimitFilter of(HttpLimiter limiter, RejectionHandler rejectionHandler) {
    return new RateLimitFilter(Objects.requireNonNull(limiter, "limiter"), false,
        Objects.requireNonNull(rejectionHandler, "rejectionHandler"));
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    if (req.getDispatcherType() == DispatcherType.ASYNC
        && req.getAttribute(QUEUED) instanceof Verdict queued
        && req instanceof HttpServletRequest request
        && res instanceof HttpServletResponse response) {
      request.removeAttribute(QUEUED); // resumed once its wait is over: serve it now
      proceed(request, response, chain, queued);
      return;
    }
    if (!(req instanceof HttpServletRequest request) || !(res instanceof HttpServletResponse response)
        || req.getDispatcherType() != DispatcherType.REQUEST || req.getAttribute(APPLIED) != null) {
      chain.doFilter(req, res);
      return;
    }
    request.setAttribute(APPLIED, Boolean.TRUE);
    Verdict verdict = limiter.decide(new ServletRequestView(request));
    for (int i = 0; i < verdict.headerCount(); i++) {
      response.setHeader(verdict.headerName(i), verdict.headerValue(i));
    }
    Optional<Decision> decision = verdict.decision();
    if (decision.isPresent()) {
      request.setAttribute(DECISION_ATTRIBUTE, decision.get());
    }
    if (!verdict.shadowRefusals().isEmpty()) {
      request.setAttribute(SHADOW_REFUSALS_ATTRIBUTE, verdict.shadowRefusals());
    }
    if (!verdict.allowed()) {
      rejectionHandler.reject(request, response, verdict.rejection().orElseThrow());
      return;
    }
    if (verdict.waitNanos() > 0) {
      if (request.isAsyncSupported()) {
        Waiter.start(request, response, verdict);
        return;
      }
      if (!verdict.await()) { // parked, holding no lock; false: interrupted, permits given back
        response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        return;
      }
    }
    proceed(request, response, chain, verdict);
  }

  /** Passes an admitted request on and settles its verdict with the final status. */
  private static void proceed(HttpServletRequest request, HttpServletResponse response,
      FilterChain chain, Verdict verdict) throws IOException, ServletException {
    try {
      chain.doFilter(request, response);
    } catch (Throwable t) {
      try {
        verdict.complete(500); // documented: an exception is a 500, whatever the error page sends
      } catch (RuntimeException settling) {
        t.addSuppressed(settling); // the application's failure is the one to report
      }
      throw t;
    }
    if (!request.isAsyncStarted() || !settleOnCompletion(request, response, verdict)) {
      verdict.complete(finalStatus(response));
    }
  }

  /** How long the container may keep a queued request in async mode beyond its wait. */
  private static final long ASYNC_MARGIN_MILLIS = 30_000;

  /**
   * A queued request in async mode, released by the core's scheduler: at the due instant it is
   * dispatched again ({@link AsyncContext#dispatch()}, on a container thread), and this filter
   * serves it then; a timeout or an error first cancels its verdict (its permits go back) and
   * ends it. Exactly one of the two wins.
   */
  private static final class Waiter implements AsyncListener {
    private static final int WAITING = 0;
    private static final int RESUMED = 1;
    private static final int ABANDONED = 2;

    private final Verdict verdict;
    private final AsyncContext async;
    private final AtomicInteger state = new AtomicInteger(WAITING);

    private Waiter(Verdict verdict, AsyncContext async) {
      this.verdict = verdict;
      this.async = async;
    }

    static void start(HttpServletRequest request, HttpServletResponse response, Verdict verdict) {
      request.setAttribute(QUEUED, verdict);
      AsyncContext async = request.startAsync(request, response);
      async.setTimeout(TimeUnit.NANOSECONDS.toMillis(verdict.waitNanos()) + 1 + ASYNC_MARGIN_MILLIS);
      Waiter w = new Waiter(verdict, async);
      async.addListener(w);
      // completed on the scheduler's thread: it only hands the request back to the container
      verdict.whenDue().whenComplete((due, failure) -> {
        if (Boolean.TRUE.equals(due) && w.state.compareAndSet(WAITING, RESUMED)) {
          async.dispatch();
        }
      });
    }

    private boolean abandon() {
      if (!state.compareAndSet(WAITING, ABANDONED)) {
        return false;
      }
      verdict.cancel();
      return true;
    }

    @Override
    public void onTimeout(AsyncEvent event) throws IOException {
      if (abandon()) {
        if (event.getSuppliedResponse() instanceof HttpServletResponse r && !r.isCommitted()) {
          r.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        }
        async.complete();
      }
    }

    @Override
    public void onError(AsyncEvent event) {
      if (abandon()) {
        async.complete(); // the client went away, or the container failed the request
      }
    }

    @Override
    public void onComplete(AsyncEvent event) {
      abandon(); // ended before it was due (the container is stopping): give the permits back
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
      // the resumed request's own async cycle is the application's
    }
  }

  /** The response's status; one outside 100..599 (no container should report one) counts as 500. */
  private static int finalStatus(HttpServletResponse response) {
    int s = response.getStatus();
    return s >= 100 && s <= 599 ? s : 500;
  }

  /**
   * Settles {@code verdict} when the async request completes; false if it can no longer be
   * listened to (its async cycle already ended), for the caller to settle now.
   */
  private static boolean settleOnCompletion(
      HttpServletRequest request, HttpServletResponse response, Verdict verdict) {
    try {
      request.getAsyncContext().addListener(new Completion(verdict, response));
      return true;
    } catch (IllegalStateException ended) {
      return false;
    }
  }

  /** Reports an async request's final status to its verdict, once (the verdict ignores repeats). */
  private static final class Completion implements AsyncListener {
    private final Verdict verdict;
    private final HttpServletResponse response;

    Completion(Verdict verdict, HttpServletResponse response) {
      this.verdict = verdict;
      this.response = response;
    }

    @Override
    public void onComplete(AsyncEvent event) {
      verdict.complete(finalStatus(response));
    }

    @Override
    public void onTimeout(AsyncEvent event) {
      // settled at the completion that follows, with the status the timeout was answered with
    }

    @Override
    public void onError(AsyncEvent event) {
      verdict.complete(500);
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
      // a new async cycle drops its listeners: stay for its completion
      event.getAsyncContext().addListener(this);
    }
  }

  /**
   * {@code request} as the HTTP layer reads it: for code that resolves a request's key itself
   * ({@link KeyResolver#resolve}) the way the filter does.
   *
   * @param request the request
   * @return a view of it, made for this call
   */
  public static RequestView requestView(HttpServletRequest request) {
    return new ServletRequestView(Objects.requireNonNull(request, "request"));
  }

  /**
   * Whole permits {@code rule} holds for {@code request}'s key, taking none: for status pages
   * and health endpoints that show a caller its allowance.
   *
   * @param request the request whose key is resolved
   * @param rule the rule's name
   * @return the permits, or empty if the request has no key for that rule
   * @throws IllegalArgumentException if there is no such rule
   */
  public OptionalLong availablePermits(HttpServletRequest request, String rule) {
    Objects.requireNonNull(request, "request");
    return limiter.availablePermits(new ServletRequestView(request), rule);
  }

  /**
   * The rules, in the order they are checked.
   *
   * @return the rules
   */
  public List<Rule> rules() {
    return limiter.rules();
  }

  /**
   * The header groups written.
   *
   * @return the groups
   */
  public Set<HeaderGroup> headerGroups() {
    return limiter.headerGroups();
  }

  /**
   * The HTTP limiter that decides.
   *
   * @return the limiter
   */
  public HttpLimiter limiter() {
    return limiter;
  }

  /** Same as {@link #close()}. */
  @Override
  public void destroy() {
    close();
  }

  /** Closes the HTTP limiter if this filter built it (its own rules' limiters); idempotent. */
  @Override
  public void close() {
    if (owned) {
      limiter.close();
    }
  }

  @Override
  public String toString() {
    return "RateLimitFilter" + rules();
  }

  /**
   * Builds a {@link RateLimitFilter}: the {@link HttpLimiter.Builder} settings, and how refusals
   * are written. Not thread-safe.
   */
  public static final class Builder {

    private final HttpLimiter.Builder http = HttpLimiter.builder();
    private RejectionHandler rejectionHandler = RejectionHandler.problemJson();

    private Builder() {}

    /**
     * See {@link HttpLimiter.Builder#limit}.
     *
     * @param limit the limit
     * @return this builder
     */
    public Builder limit(Limit limit) {
      http.limit(limit);
      return this;
    }

    /**
     * See {@link HttpLimiter.Builder#rule}.
     *
     * @param rule the rule
     * @return this builder
     */
    public Builder rule(Rule rule) {
      http.rule(rule);
      return this;
    }

    /**
     * See {@link HttpLimiter.Builder#key}.
     *
     * @param resolver the resolver
     * @return this builder
     */
    public Builder key(KeyResolver resolver) {
      http.key(resolver);
      return this;
    }

    /**
     * See {@link HttpLimiter.Builder#exempt}.
     *
     * @param patterns path patterns
     * @return this builder
     */
    public Builder exempt(String... patterns) {
      http.exempt(patterns);
      return this;
    }

    /**
     * See {@link HttpLimiter.Builder#headers}.
     *
     * @param groups the groups
     * @return this builder
     */
    public Builder headers(HeaderGroup... groups) {
      http.headers(groups);
      return this;
    }

    /**
     * See {@link HttpLimiter.Builder#onMissingKey}.
     *
     * @param action the action
     * @return this builder
     */
    public Builder onMissingKey(MissingKey action) {
      http.onMissingKey(action);
      return this;
    }

    /**
     * See {@link HttpLimiter.Builder#ticker}.
     *
     * @param t the ticker
     * @return this builder
     */
    public Builder ticker(Ticker t) {
      http.ticker(t);
      return this;
    }

    /**
     * See {@link HttpLimiter.Builder#store}.
     *
     * @param factory the store factory
     * @return this builder
     */
    public Builder store(RateStoreFactory factory) {
      http.store(factory);
      return this;
    }

    /**
     * See {@link HttpLimiter.Builder#lockWait}.
     *
     * @param wait the longest wait for another request's lock on the same (rule, key)
     * @return this builder
     */
    public Builder lockWait(Duration wait) {
      http.lockWait(wait);
      return this;
    }

    /**
     * Writes refusals (default {@link RejectionHandler#problemJson()}).
     *
     * @param handler the handler
     * @return this builder
     */
    public Builder rejectionHandler(RejectionHandler handler) {
      this.rejectionHandler = Objects.requireNonNull(handler, "handler");
      return this;
    }

    /**
     * Builds the filter and its {@link HttpLimiter}; a failed build closes what it created.
     *
     * @return the filter
     * @throws IllegalStateException as {@link HttpLimiter.Builder#build()}
     */
    public RateLimitFilter build() {
      return new RateLimitFilter(http.build(), true, rejectionHandler);
    }
  }
}
