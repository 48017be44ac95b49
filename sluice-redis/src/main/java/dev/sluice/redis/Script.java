package dev.sluice.redis;

import io.lettuce.core.RedisNoScriptException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * The Lua script ({@code bucket.lua}) as Redis sees it: its text and SHA-1 for {@code EVALSHA},
 * and the codec of its reply. The arguments it takes, and what the numbers of its reply mean, are
 * {@link BucketMath}'s.
 *
 * <p>The reply is a flat array of integers, {@code 1 + 2 L} per key ({@code L} limits): a flag,
 * then per limit the two numbers {@code a, r} of the bucket's empty instant. It is checked and
 * decoded here once, into one {@link KeyReply} per key, so no other class looks at Lettuce's
 * reply objects.
 */
final class Script {

  static final String TEXT = load();
  static final byte[] BYTES = TEXT.getBytes(StandardCharsets.UTF_8);
  static final String SHA = sha1Hex(BYTES);

  private Script() {}

  /**
   * The replies for {@code keys} keys of a policy of {@code limits} limits, in the order the keys
   * were sent.
   *
   * @throws IllegalStateException if the reply does not have the script's shape
   */
  static KeyReply[] decode(Object reply, int keys, int limits) {
    int width = 1 + 2 * limits;
    if (!(reply instanceof List) || ((List<?>) reply).size() != keys * width) {
      throw new IllegalStateException(
          "unexpected script reply " + reply + " for " + keys + " keys and " + limits + " limits");
    }
    List<?> list = (List<?>) reply;
    KeyReply[] out = new KeyReply[keys];
    for (int k = 0; k < keys; k++) {
      int at = k * width;
      Object first = list.get(at);
      if (first instanceof Long && ((Long) first == KeyReply.IN_OTHER
          || (Long) first == KeyReply.MOVED_UNKNOWN)) {
        out[k] = redirect(list, at, limits);
        continue;
      }
      if (first instanceof Long && ((Long) first == KeyReply.RESERVED
          || (Long) first == KeyReply.TOO_LONG)) {
        out[k] = reservation(list, at, limits);
        continue;
      }
      long[] spans = new long[2 * limits];
      for (int i = 0; i < spans.length; i++) {
        spans[i] = number(list, at + 1 + i);
      }
      out[k] = KeyReply.of(number(list, at), spans);
    }
    return out;
  }

  /** A reply of 5, wait, "now:length:written before" or 6, wait, "" (see bucket.lua). */
  private static KeyReply reservation(List<?> reply, int at, int limits) {
    int kind = (int) number(reply, at);
    long wait = number(reply, at + 1);
    Object text = reply.get(at + 2);
    if (kind == KeyReply.TOO_LONG) {
      return KeyReply.reservation(kind, wait, 0, 0, new byte[0], limits);
    }
    if (!(text instanceof byte[])) {
      throw new IllegalStateException("unexpected script reply " + reply);
    }
    byte[] bytes = (byte[]) text;
    int colon = colon(bytes, reply);
    byte[] rest = Arrays.copyOfRange(bytes, colon + 1, bytes.length);
    int second = colon(rest, reply);
    int split = (int) nowBefore(rest, second);
    if (split < 0 || split > rest.length - second - 1) {
      throw new IllegalStateException("unexpected script reply " + reply);
    }
    return KeyReply.reservation(kind, wait, nowBefore(bytes, colon), split,
        Arrays.copyOfRange(rest, second + 1, rest.length), limits);
  }

  /** Where the script's {@code now .. ':' .. value} splits. */
  private static int colon(byte[] bytes, List<?> reply) {
    int colon = 0;
    while (colon < bytes.length && bytes[colon] != ':') {
      colon++;
    }
    if (colon == 0 || colon == bytes.length) {
      throw new IllegalStateException("unexpected script reply " + reply);
    }
    return colon;
  }

  private static long nowBefore(byte[] bytes, int colon) {
    return Long.parseLong(new String(bytes, 0, colon, StandardCharsets.US_ASCII));
  }

  /** A reply of 3, j, "now:value" or 4, 0, tombstone (see bucket.lua). */
  private static KeyReply redirect(List<?> reply, int at, int limits) {
    int kind = (int) number(reply, at);
    int source = (int) number(reply, at + 1);
    Object text = reply.get(at + 2);
    if (!(text instanceof byte[])) {
      throw new IllegalStateException("unexpected script reply " + reply);
    }
    byte[] bytes = (byte[]) text;
    if (kind == KeyReply.MOVED_UNKNOWN) {
      return KeyReply.redirect(kind, source, 0, bytes, limits);
    }
    if (source < 1) {
      throw new IllegalStateException("unexpected script reply " + reply);
    }
    int colon = colon(bytes, reply);
    return KeyReply.redirect(kind, source, nowBefore(bytes, colon),
        Arrays.copyOfRange(bytes, colon + 1, bytes.length), limits);
  }

  private static long number(List<?> reply, int index) {
    Object o = reply.get(index);
    if (!(o instanceof Long)) {
      throw new IllegalStateException("unexpected script reply " + reply);
    }
    return (Long) o;
  }

  /** Whether {@code t} says that Redis does not hold the script (nothing ran). */
  static boolean isNoScript(Throwable t) {
    return t instanceof RedisNoScriptException
        || (t.getMessage() != null && t.getMessage().startsWith("NOSCRIPT"));
  }

  private static String load() {
    try (InputStream in = Script.class.getResourceAsStream("bucket.lua")) {
      if (in == null) {
        throw new IllegalStateException("bucket.lua is missing from sluice-redis");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha1Hex(byte[] bytes) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-1").digest(bytes);
      StringBuilder sb = new StringBuilder(40);
      for (byte b : d) {
        sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      return sb.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
