package dev.sluice.servlet;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Writes the response for a refused request: status and body. The rate-limit headers (including
 * {@code Retry-After}) are already set when it runs. The default,
 * {@link #problemJson()}, writes an RFC 9457 problem:
 *
 * <pre>
 * HTTP/1.1 429 Too Many Requests
 * Content-Type: application/problem+json
 *
 * {"type":"https://iana.org/assignments/http-problem-types#quota-exceeded",
 *  "title":"Request cannot be satisfied as assigned quota has been exceeded",
 *  "status":429,"detail":"...","violated-policies":["api"]}
 * </pre>
 *
 * A replacement must be thread-safe; it may use {@link Rejection#status()} or choose its own.
 */
@FunctionalInterface
public interface RejectionHandler {

  /**
   * Writes the refusal.
   *
   * @param request the refused request
   * @param response its response, not committed
   * @param rejection why it was refused
   * @throws IOException if writing fails
   */
  void reject(HttpServletRequest request, HttpServletResponse response, Rejection rejection)
      throws IOException;

  /**
   * The default handler: {@link Rejection#status()} and an {@code application/problem+json}
   * body (RFC 9457) of type {@code https://iana.org/assignments/http-problem-types#quota-exceeded}
   * for quota refusals, {@code about:blank} (403) for a missing key. The body names rules and
   * numbers, never key material.
   *
   * @return the handler
   */
  static RejectionHandler problemJson() {
    return ProblemJson.INSTANCE;
  }
}
