package dev.sluice.http;

import dev.sluice.Decision;

/** The RFC 9457 problem details of a {@link Rejection}. */
final class ProblemJson {

  static final String QUOTA_EXCEEDED_TYPE =
      "https://iana.org/assignments/http-problem-types#quota-exceeded";
  static final String QUOTA_EXCEEDED_TITLE =
      "Request cannot be satisfied as assigned quota has been exceeded";

  private ProblemJson() {}

  static String body(Rejection r) {
    StringBuilder sb = new StringBuilder(320);
    if (r.reason() == Rejection.Reason.MISSING_KEY) {
      sb.append("{\"type\":\"about:blank\",\"title\":\"Forbidden\",\"status\":403,\"detail\":");
      string(sb, "The request carries no key for rate limit \"" + r.rules().get(0)
          + "\": it needs " + r.wanted() + ".");
      return sb.append('}').toString();
    }
    if (r.reason() == Rejection.Reason.UNAVAILABLE) {
      sb.append("{\"type\":\"about:blank\",\"title\":\"Service Unavailable\",\"status\":503,"
          + "\"detail\":");
      string(sb, "Rate limit \"" + String.join("\", \"", r.rules())
          + "\" cannot be checked now: its store is unavailable.");
      return sb.append('}').toString();
    }
    Decision d = r.decision().orElseThrow();
    sb.append("{\"type\":");
    string(sb, QUOTA_EXCEEDED_TYPE);
    sb.append(",\"title\":");
    string(sb, QUOTA_EXCEEDED_TITLE);
    sb.append(",\"status\":").append(r.status()).append(",\"detail\":");
    String rule = "\"" + String.join("\", \"", r.rules()) + "\"";
    String detail;
    if (r.reason() == Rejection.Reason.EXCEEDS_CAPACITY) {
      detail = "The request costs " + permits(r.permits()) + " but rate limit " + rule
          + " holds at most " + d.limit() + ": it can never be admitted.";
    } else {
      detail = "Rate limit " + rule + " exceeded: " + permits(r.permits()) + " requested, "
          + d.remaining() + " available; retry in " + r.retryAfterSeconds().orElseThrow() + " s.";
    }
    string(sb, detail);
    sb.append(",\"violated-policies\":[");
    for (int i = 0; i < r.rules().size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      string(sb, r.rules().get(i));
    }
    return sb.append("]}").toString();
  }

  private static String permits(long n) {
    return n == 1 ? "1 permit" : n + " permits";
  }

  /** Appends a JSON string literal. */
  static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          sb.append("\\\"");
          break;
        case '\\':
          sb.append("\\\\");
          break;
        default:
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    sb.append('"');
  }
}
