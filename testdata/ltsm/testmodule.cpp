// A stand-in for LINE's ltsm.wasm, for linectl's tests: the same embind
// class names and calling conventions (SecureKey.loadToken(std::string),
// SecureKey::deriveKey(val, val) -> SecureKey, new Hmac(SecureKey),
// Hmac::digest(val) -> val holding a Uint8Array), computing a simple,
// documented keyed function instead of LINE's white-box HMAC:
//
//   loadToken(t):      k[i] = sum_j t[j] * (i + j + 1)            (mod 256), i < 32
//   deriveKey(a, b):   k'[i] = k[i] ^ a[i % |a|] ^ rotl1(b[i % |b|])
//   digest(m) of k:    d[i] = k[i] ^ (sum_j m[j] * (i + j + 1))   (mod 256)
//
// Byte arrays cross the boundary the way LINE's module reads and writes
// them: through emscripten::val (length and elements read as properties;
// results returned as a copied Uint8Array of a typed_memory_view).
// Rebuild with scripts/build-testwasm.sh (Debian's emscripten package).
#include <emscripten/bind.h>
#include <emscripten/val.h>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

using emscripten::val;

namespace {

std::vector<uint8_t> bytesOf(const val& v) {
  const unsigned n = v["length"].as<unsigned>();
  std::vector<uint8_t> out(n);
  for (unsigned i = 0; i < n; ++i) out[i] = v[i].as<uint8_t>();
  return out;
}

val toUint8Array(const uint8_t* p, size_t n) {
  return val::global("Uint8Array").new_(val(emscripten::typed_memory_view(n, p)));
}

}  // namespace

class SecureKey {
 public:
  std::array<uint8_t, 32> k{};

  static SecureKey loadToken(std::string token) {
    SecureKey s;
    for (int i = 0; i < 32; ++i) {
      unsigned sum = 0;
      for (size_t j = 0; j < token.size(); ++j) sum += uint8_t(token[j]) * unsigned(i + j + 1);
      s.k[i] = uint8_t(sum);
    }
    return s;
  }

  SecureKey deriveKey(val a, val b) const {
    std::vector<uint8_t> x = bytesOf(a), y = bytesOf(b);
    SecureKey d;
    for (int i = 0; i < 32; ++i) {
      uint8_t yb = y.empty() ? 0 : y[i % y.size()];
      d.k[i] = k[i] ^ (x.empty() ? 0 : x[i % x.size()]) ^ uint8_t((yb << 1) | (yb >> 7));
    }
    return d;
  }
};

class Hmac {
 public:
  explicit Hmac(SecureKey key) : key_(key) {}

  val digest(val message) const {
    std::vector<uint8_t> m = bytesOf(message);
    std::array<uint8_t, 32> d{};
    for (int i = 0; i < 32; ++i) {
      unsigned sum = 0;
      for (size_t j = 0; j < m.size(); ++j) sum += m[j] * unsigned(i + j + 1);
      d[i] = key_.k[i] ^ uint8_t(sum);
    }
    return toUint8Array(d.data(), d.size());
  }

 private:
  SecureKey key_;
};

EMSCRIPTEN_BINDINGS(ltsm_test) {
  emscripten::class_<SecureKey>("SecureKey")
      .class_function("loadToken", &SecureKey::loadToken)
      .function("deriveKey", &SecureKey::deriveKey);
  emscripten::class_<Hmac>("Hmac")
      .constructor<SecureKey>()
      .function("digest", &Hmac::digest);
}
