package dev.sluice.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * The Redis keys of one limiter's buckets: {@code {<namespace>:<limiter name>:<h>}}, where
 * {@code h} is the SHA-256 of the key's bytes in unpadded base64url (43 characters).
 *
 * <p>The whole key is the hash tag, so a bucket sits in one Cluster slot, and a key of any size
 * or content (binary, {@code {}}, a megabyte) can neither escape its namespace nor choose its
 * slot: only the namespace and the name, both checked here against small alphabets without
 * braces, reach Redis as written. A key's bytes are its UTF-8 {@code toString()}, or the array
 * itself for a {@code byte[]}; keys equal by {@code equals} must have equal bytes (true of
 * strings and numbers).
 */
final class RedisKeys {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern NAMESPACE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });

  /** Every key starts so: a brace, then the namespace and the name, each followed by a colon. */
  private final byte[] prefix;

  /** The keys of limiter {@code name} in {@code namespace}, both already checked. */
  RedisKeys(String namespace, String name) {
    this.prefix = ("{" + namespace + ":" + name + ":").getBytes(StandardCharsets.US_ASCII);
  }

  /** The Redis key of {@code key}'s bucket. */
  byte[] of(Object key) {
    byte[] bytes = key instanceof byte[] ? (byte[]) key
        : key.toString().getBytes(StandardCharsets.UTF_8);
    byte[] hash = Base64.getUrlEncoder().withoutPadding().encode(SHA256.get().digest(bytes));
    byte[] out = new byte[prefix.length + hash.length + 1];
    System.arraycopy(prefix, 0, out, 0, prefix.length);
    System.arraycopy(hash, 0, out, prefix.length, hash.length);
    out[out.length - 1] = '}';
    return out;
  }

  /**
   * Checks a limiter name.
   *
   * @throws IllegalArgumentException unless it is 1 to 64 characters from {@code [A-Za-z0-9._-]}
   */
  static String checkName(String name) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "name (\"" + name + "\") must be 1 to 64 characters from [A-Za-z0-9._-]");
    }
    return name;
  }

  /**
   * Checks a namespace.
   *
   * @throws IllegalArgumentException unless it is 1 to 64 characters from {@code [A-Za-z0-9._:-]}
   */
  static String checkNamespace(String namespace) {
    if (!NAMESPACE.matcher(namespace).matches()) {
      throw new IllegalArgumentException(
          "namespace (\"" + namespace + "\") must be 1 to 64 characters from [A-Za-z0-9._:-]");
    }
    return namespace;
  }
}
