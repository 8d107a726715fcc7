// fuzz_serve_request.cpp — libFuzzer harness: what a client can send to
// `ctxenc serve`. The first byte chooses:
//   odd:  the rest is a raw HTTP request, run through cpp-httplib's request
//         parser (request line, headers, query, multipart) and the server's
//         own routes (serve::Server::install_routes) on an in-memory stream;
//         the models folder is empty, so a valid request ends at "unknown
//         model" without model work;
//   even: the rest is a list of form fields for parse_inpaint_request, split
//         at "\n--\n"; a field is "name=value", and "@name=bytes" an upload.
// A request must end in a response or a ctxenc::Error, never a crash, leak or hang.
#include <httplib.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ctxenc/errors.h"
#include "serve/request.h"
#include "serve/server.h"

namespace {

class MemoryStream : public httplib::Stream {
 public:
  MemoryStream(const char* data, size_t size) : data_(data), size_(size) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    size = std::min(size, size_ - pos_);
    std::memcpy(ptr, data_ + pos_, size);
    pos_ += size;
    return static_cast<ssize_t>(size);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return 0; }
  std::string out;

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

class FuzzHttp : public httplib::Server {
 public:
  void process(httplib::Stream& s) {
    bool closed = false;
    process_request(s, /*close_connection=*/true, closed, nullptr);
  }
};

struct Harness {
  Harness() {
    const auto dir = std::filesystem::temp_directory_path() / "ctxenc-fuzz-serve-models";
    std::filesystem::create_directories(dir);
    ctxenc::serve::ServeOptions opt;
    opt.models = dir.string();
    opt.max_body_bytes = 1 << 20;
    opt.max_pixels = 4'000'000;
    server = std::make_unique<ctxenc::serve::Server>(opt, nullptr);
    server->install_routes(http);
  }
  std::unique_ptr<ctxenc::serve::Server> server;
  FuzzHttp http;
};

std::vector<ctxenc::serve::FormField> fields_of(const std::string& text) {
  std::vector<ctxenc::serve::FormField> fields;
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find("\n--\n", at);
    if (end == std::string::npos) end = text.size();
    const std::string part = text.substr(at, end - at);
    const size_t eq = part.find('=');
    ctxenc::serve::FormField f;
    f.name = part.substr(0, eq);
    if (eq != std::string::npos) f.content = part.substr(eq + 1);
    if (!f.name.empty() && f.name[0] == '@') {
      f.name.erase(0, 1);
      f.filename = f.name + ".png";
    }
    fields.push_back(std::move(f));
    at = end + 4;
  }
  return fields;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static Harness* harness = new Harness;  // one server for the whole run
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    MemoryStream stream(rest.data(), rest.size());
    harness->http.process(stream);
    if (!stream.out.empty() && stream.out.rfind("HTTP/1.", 0) != 0) __builtin_trap();  // not an HTTP response
    return 0;
  }
  try {
    ctxenc::serve::RequestLimits limits;
    limits.max_pixels = 4'000'000;
    const ctxenc::serve::InpaintRequest r = ctxenc::serve::parse_inpaint_request(fields_of(rest), limits);
    if (!ctxenc::serve::is_safe_model_name(r.model)) __builtin_trap();
    if (r.image.empty() || r.image.type() != CV_8UC3) __builtin_trap();
    if (r.mask_spec.kind != ctxenc::MaskSpec::Kind::Center &&
        (r.mask.size() != r.image.size() || r.mask.type() != CV_8UC1))
      __builtin_trap();
  } catch (const ctxenc::Error&) {
  }
  return 0;
}
