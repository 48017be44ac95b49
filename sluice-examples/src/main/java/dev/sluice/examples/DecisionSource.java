package dev.sluice.examples;

import dev.sluice.Decision;
import dev.sluice.RateLimitListener;
import dev.sluice.servlet.RejectionHandler;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import java.io.IOException;
import java.util.Locale;
import java.util.Objects;

/**
 * Tells the page who decided each {@code /hello}: the response header {@value #HEADER} is
 * {@code store}, {@code local-fallback}, {@code failure-open} or {@code failure-closed}
 * ({@link Decision.Source}), so that a Redis outage shows. An admitted request's decision is seen
 * only by the limiter's listener, so {@link Recorder} notes it on the deciding thread (the filter
 * decides synchronously, on the request's thread) and the servlet reads it; {@link Reset} starts
 * every request afresh; a refusal carries its decision, so {@link #rejectionHandler()} reads it
 * there.
 */
final class DecisionSource {

  /** The response header naming who decided. */
  static final String HEADER = "Sluice-Decision-Source";

  private static final ThreadLocal<Decision.Source> CURRENT = new ThreadLocal<>();

  private DecisionSource() {}

  /** Who decided the current request on this thread, or null if nothing decided it. */
  static Decision.Source current() {
    return CURRENT.get();
  }

  /** {@code FAILURE_OPEN} as {@code failure-open}, and so on. */
  static String text(Decision.Source source) {
    return source.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The limiter's listener: notes the decision's source, then hands the event on. */
  static final class Recorder implements RateLimitListener {
    private final RateLimitListener next;

    Recorder(RateLimitListener next) {
      this.next = Objects.requireNonNull(next, "next");
    }

    @Override
    public void onDecision(
        String limiter, boolean allowed, Decision.Source source, long latencyNanos) {
      CURRENT.set(source);
      next.onDecision(limiter, allowed, source, latencyNanos);
    }

    @Override
    public void onBackendError(String limiter, Throwable error) {
      next.onBackendError(limiter, error);
    }
  }

  /** In front of the rate-limit filter: no source left over from an earlier request. */
  static final class Reset implements Filter {
    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
        throws IOException, ServletException {
      CURRENT.remove();
      try {
        chain.doFilter(req, res);
      } finally {
        CURRENT.remove();
      }
    }
  }

  /** {@link RejectionHandler#problemJson()}, plus the header. */
  static RejectionHandler rejectionHandler() {
    RejectionHandler problem = RejectionHandler.problemJson();
    return (request, response, rejection) -> {
      rejection.decision().ifPresent(d -> response.setHeader(HEADER, text(d.source())));
      problem.reject(request, response, rejection);
    };
  }
}
