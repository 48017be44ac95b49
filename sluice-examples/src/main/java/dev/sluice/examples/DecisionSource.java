package dev.sluice.examples;

import dev.sluice.Decision;
import dev.sluice.servlet.RateLimitFilter;
import dev.sluice.servlet.RejectionHandler;
import jakarta.servlet.ServletRequest;
import java.util.Locale;

/**
 * Tells the page who decided each {@code /hello}: the response header {@value #HEADER} is
 * {@code store}, {@code local-fallback}, {@code failure-open} or {@code failure-closed}
 * ({@link Decision.Source}), so that a Redis outage shows. The filter publishes the binding
 * decision as the request attribute {@link RateLimitFilter#DECISION_ATTRIBUTE}; the servlet
 * reads it there, and a refusal carries its decision, so {@link #rejectionHandler()} reads it
 * from the rejection.
 */
final class DecisionSource {

  /** The response header naming who decided. */
  static final String HEADER = "Sluice-Decision-Source";

  private DecisionSource() {}

  /** Who decided {@code request}, or null if no rule decided it (exempt, unmatched). */
  static Decision.Source of(ServletRequest request) {
    Object d = request.getAttribute(RateLimitFilter.DECISION_ATTRIBUTE);
    return d instanceof Decision decision ? decision.source() : null;
  }

  /** {@code FAILURE_OPEN} as {@code failure-open}, and so on. */
  static String text(Decision.Source source) {
    return source.name().toLowerCase(Locale.ROOT).replace('_', '-');
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
