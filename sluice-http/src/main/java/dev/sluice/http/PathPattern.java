package dev.sluice.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A path pattern, Ant style: {@code /hello} matches itself; {@code *} matches any characters
 * within one segment ({@code /users/*}{@code /avatar}, {@code /*.json}); {@code **} as a whole
 * segment matches zero or more segments ({@code /a/**}{@code /z} matches {@code /a/z} and
 * {@code /a/b/c/z}; {@code /api/**} matches {@code /api}, {@code /api/} and {@code /api/a/b});
 * {@code /**} alone matches every path. Matched against the decoded, normalized path, so
 * {@code /api/%2e%2e/health} cannot pass for {@code /health}.
 *
 * <h2>Cost</h2>
 * No regular expression is involved: a path is matched by two nested greedy wildcard matchers
 * (segments against {@code **}, characters within a segment against {@code *}), each of which
 * backtracks only to its last star. Matching a path of {@code n} characters against a pattern
 * of {@code m} therefore takes at most about {@code m * n} steps, whatever either contains: a
 * hostile path (thousands of dots against {@code /files/*.*.*.zip}) costs microseconds, not
 * the seconds a backtracking regex spends.
 */
final class PathPattern {

  private enum Kind { ALL, EXACT, PREFIX, GLOB }

  private final String text;
  private final Kind kind;
  private final String literal;
  /** Per segment of a glob: its text, or null for {@code **}. */
  private final String[] segments;

  private PathPattern(String text, Kind kind, String literal, String[] segments) {
    this.text = text;
    this.kind = kind;
    this.literal = literal;
    this.segments = segments;
  }

  static PathPattern compile(String text) {
    Objects.requireNonNull(text, "pattern");
    if (text.isEmpty() || text.charAt(0) != '/') {
      throw new IllegalArgumentException("path pattern \"" + text + "\" must start with '/'");
    }
    List<String> segs = new ArrayList<>();
    int start = 1;
    while (true) {
      int slash = text.indexOf('/', start);
      String seg = text.substring(start, slash < 0 ? text.length() : slash);
      if (seg.equals("**")) {
        segs.add(null);
      } else if (seg.contains("**")) {
        throw new IllegalArgumentException("path pattern \"" + text
            + "\" may use ** only as a whole segment (/a/**/b), and * within one (/a/*.json)");
      } else {
        segs.add(seg);
      }
      if (slash < 0) {
        break;
      }
      start = slash + 1;
    }
    if (text.equals("/**")) {
      return new PathPattern(text, Kind.ALL, null, null);
    }
    if (text.indexOf('*') < 0) {
      return new PathPattern(text, Kind.EXACT, text, null);
    }
    if (text.endsWith("/**") && text.indexOf('*') == text.length() - 2) {
      return new PathPattern(text, Kind.PREFIX, text.substring(0, text.length() - 3), null);
    }
    return new PathPattern(text, Kind.GLOB, null, segs.toArray(new String[0]));
  }

  boolean matches(String path) {
    switch (kind) {
      case ALL:
        return true;
      case EXACT:
        return path.equals(literal);
      case PREFIX:
        return path.startsWith(literal)
            && (path.length() == literal.length() || path.charAt(literal.length()) == '/');
      default:
        return glob(path, null);
    }
  }

  /**
   * The glob matcher; counts its steps into {@code steps[0]} when {@code steps} is not null (for
   * the test that bounds them).
   */
  boolean glob(String path, long[] steps) {
    int n = segments.length;
    int len = path.length();
    int pi = 0;
    int p = path.isEmpty() || path.charAt(0) != '/' ? 0 : 1;
    int starPi = -1;
    int starP = -1;
    while (p <= len) {
      int end = path.indexOf('/', p);
      if (end < 0) {
        end = len;
      }
      if (steps != null) {
        steps[0] += end - p + 1;
      }
      if (pi < n && segments[pi] == null) {
        starPi = pi++;
        starP = p;
      } else if (pi < n && segment(segments[pi], path, p, end, steps)) {
        pi++;
        p = end + 1;
      } else if (starPi >= 0) {
        pi = starPi + 1;
        int e = path.indexOf('/', starP);
        starP = (e < 0 ? len : e) + 1;
        p = starP;
      } else {
        return false;
      }
    }
    while (pi < n && segments[pi] == null) {
      pi++;
    }
    return pi == n;
  }

  /** Whether {@code path[from, to)} matches the one-segment glob {@code g}. */
  private static boolean segment(String g, String path, int from, int to, long[] steps) {
    int gl = g.length();
    int gi = 0;
    int s = from;
    int starG = -1;
    int starS = -1;
    while (s < to) {
      if (steps != null) {
        steps[0]++;
      }
      char c = gi < gl ? g.charAt(gi) : 0;
      if (gi < gl && c != '*' && c == path.charAt(s)) {
        gi++;
        s++;
      } else if (gi < gl && c == '*') {
        starG = gi++;
        starS = s;
      } else if (starG >= 0) {
        gi = starG + 1;
        s = ++starS;
      } else {
        return false;
      }
    }
    while (gi < gl && g.charAt(gi) == '*') {
      gi++;
    }
    return gi == gl;
  }

  @Override
  public String toString() {
    return text;
  }
}
