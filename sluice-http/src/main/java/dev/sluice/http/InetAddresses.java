package dev.sluice.http;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Strict IP literal parsing that never touches DNS: dotted-quad IPv4 (no leading zeros, no
 * shorthand), and IPv6 handed to the JDK only in brackets, which makes it parse or fail as a
 * literal. Zone ids ({@code %eth0}) are refused rather than looked up.
 */
final class InetAddresses {

  /** The longest textual IPv6 address ({@code ffff:...:255.255.255.255}). */
  static final int MAX_LITERAL = 45;

  private InetAddresses() {}

  /**
   * Parses an IP literal, optionally in brackets.
   *
   * @param text the text, may be null
   * @return the address, or null if {@code text} is not an IP literal
   */
  static InetAddress parse(String text) {
    if (text == null) {
      return null;
    }
    String s = text;
    if (s.length() >= 2 && s.charAt(0) == '[' && s.charAt(s.length() - 1) == ']') {
      s = s.substring(1, s.length() - 1);
      if (s.indexOf(':') < 0) {
        return null;
      }
    }
    if (s.isEmpty() || s.length() > MAX_LITERAL) {
      return null;
    }
    if (s.indexOf(':') < 0) {
      byte[] v4 = ipv4(s, 0, s.length());
      return v4 == null ? null : byAddress(v4);
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
          || c == ':' || c == '.';
      if (!ok) {
        return null;
      }
    }
    try {
      // Brackets make the JDK parse a literal or throw; it never falls back to a lookup.
      return InetAddress.getByName("[" + s + "]");
    } catch (UnknownHostException | IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * Parses {@code text[from, to)} as a dotted quad.
   *
   * @return four bytes, or null
   */
  static byte[] ipv4(String text, int from, int to) {
    byte[] out = new byte[4];
    int part = 0;
    int i = from;
    while (true) {
      int start = i;
      int value = 0;
      while (i < to && i - start < 4) {
        char c = text.charAt(i);
        if (c < '0' || c > '9') {
          break;
        }
        value = value * 10 + (c - '0');
        i++;
      }
      int digits = i - start;
      if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && text.charAt(start) == '0')) {
        return null;
      }
      out[part++] = (byte) value;
      if (part == 4) {
        return i == to ? out : null;
      }
      if (i >= to || text.charAt(i) != '.') {
        return null;
      }
      i++;
    }
  }

  static InetAddress byAddress(byte[] bytes) {
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new AssertionError("4 or 16 bytes are always a valid address", e);
    }
  }
}
