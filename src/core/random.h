// core/random.h — internal: the uniform draws every random choice of the
// library is made of (masks, crops, flips), from a std::mt19937_64 seeded by
// mix_seed (ctxenc/masks.h), so each sample is a pure function of its seed.
#pragma once
#include <cstdint>
#include <random>

namespace ctxenc {

using Rng = std::mt19937_64;

// U[0, 1) from the top 53 bits of one draw.
inline double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0); }
// U[lo, hi).
inline double uniform(Rng& rng, double lo, double hi) { return lo + (hi - lo) * uniform01(rng); }
// U{lo, ..., hi}, inclusive.
inline int uniform_int(Rng& rng, int lo, int hi) {
  return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

}  // namespace ctxenc
