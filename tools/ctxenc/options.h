// options.h — helpers shared by the subcommands for turning flags into the
// library's config structs. Every default a --help shows is read from the
// struct the flag fills, never typed again here.
#pragma once
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

namespace ctxenc::cli {

// A default as --help prints it: numbers as iostreams write them (2e-4 -> 0.0002).
template <typename T>
std::string default_text(const T& v) {
  if constexpr (std::is_convertible_v<T, std::string>) {
    return v;
  } else {
    std::ostringstream ss;
    ss << v;
    return ss.str();
  }
}

// An option that fills `field` directly, showing its current (default) value.
template <typename T>
CLI::Option* add_field(CLI::App* sub, const std::string& name, T& field, const std::string& help) {
  return sub->add_option(name, field, help)->default_str(default_text(field));
}

// An enum option spelled by name: parse (the library's parse_*) throws
// UsageError for an unknown name; the default shown is to_string(field).
template <typename E>
CLI::Option* add_enum(CLI::App* sub, const std::string& name, E& field, E (*parse)(const std::string&),
                      const std::string& help) {
  return sub
      ->add_option_function<std::string>(name, [&field, parse](const std::string& s) { field = parse(s); }, help)
      ->default_str(to_string(field));
}

}  // namespace ctxenc::cli
