// core/enum_names.h — internal: one table of names per enum, from which its
// to_string and its strict parse are made (and through them its JSON form).
#pragma once
#include <cstddef>
#include <string>
#include <utility>

#include "ctxenc/errors.h"

namespace ctxenc {

template <typename E, size_t N>
using EnumNames = std::pair<E, const char*>[N];

// The name of v in the table, or "?" for a value the table lacks.
template <typename E, size_t N>
const char* enum_name(const EnumNames<E, N>& names, E v) {
  for (const auto& [e, name] : names)
    if (e == v) return name;
  return "?";
}

// The value named s; throws UsageError "unknown <what> 's' (expected a|b|c)".
template <typename E, size_t N>
E parse_enum(const EnumNames<E, N>& names, const std::string& s, const char* what) {
  std::string all;
  for (const auto& [e, name] : names) {
    if (s == name) return e;
    all += (all.empty() ? "" : "|") + std::string(name);
  }
  throw UsageError(std::string("unknown ") + what + " '" + s + "' (expected " + all + ")");
}

}  // namespace ctxenc
