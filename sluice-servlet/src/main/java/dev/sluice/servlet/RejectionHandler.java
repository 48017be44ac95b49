package dev.sluice.servlet;

import dev.sluice.http.Rejection;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Writes the response for a refused request: status and body. The rate-limit headers (including
 * {@code Retry-After}) are already set when it runs. The default, {@link #problemJson()}, writes
 * the rejection's RFC 9457 problem:
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
   * The default handler: {@link Rejection#status()}, {@code Cache-Control: no-store} and the
   * {@link Rejection#problemJson()} body.
   *
   * @return the handler
   */
  static RejectionHandler problemJson() {
    return (request, response, r) -> {
      byte[] body = r.problemJson().getBytes(StandardCharsets.UTF_8);
      response.setStatus(r.status());
      response.setContentType(Rejection.PROBLEM_JSON);
      response.setHeader("Cache-Control", "no-store");
      response.setContentLength(body.length);
      response.getOutputStream().write(body);
    };
  }
}
